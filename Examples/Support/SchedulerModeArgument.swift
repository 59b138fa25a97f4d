import ArgumentParser
import Scheduler

extension SchedulerPolicy.Mode: ExpressibleByArgument {}
