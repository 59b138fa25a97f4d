import ArgumentParser
import Ixgbe
import PacketProcessing
import Scheduler
import UIO
import VirtioNet
#if canImport(Glibc)
import Glibc
#endif

/// Answers ARP, ICMP echo and UDP echo (port 7) on a NIC bound to UIO, so the host can ping it.
struct EchoServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server",
        abstract: "Answer ARP, ICMP echo and UDP echo (port 7) on a NIC bound to uio_pci_generic.")

    @Argument(help: "PCI address of the NIC, DDDD:BB:DD.F (see `uioctl list`).")
    var pciAddress: String

    @Option(help: "IPv4 address to answer for, with an optional prefix (192.0.2.2/24).")
    var ip: String

    @Option(help: "hybrid (poll while busy, sleep on the interrupt when idle), poll, or interrupt.")
    var mode: SchedulerPolicy.Mode = .hybrid

    @Option(help: "Print rx/tx/drop counts every N seconds (0: never).")
    var statsInterval: Int = 0

    @Option(help: "Packets per receive call.")
    var batch: Int = 32

    @Option(help: "Empty polls before sleeping, in hybrid mode.")
    var idlePolls: Int = 300

    func validate() throws {
        guard IPv4Address(parsing: ip) != nil else { throw ValidationError("--ip '\(ip)' is not an IPv4 address such as 192.0.2.2/24") }
        guard (1...512).contains(batch) else { throw ValidationError("--batch must be between 1 and 512") }
        guard statsInterval >= 0 else { throw ValidationError("--stats-interval must be 0 or more") }
    }

    func run() throws {
        do {
            let address = try PCIAddress(parsing: pciAddress)
            let function = try UIOPCIDevice(address: address)
            switch try DriverRegistry.require(vendor: function.vendorID, device: function.deviceID) {
            case .virtioNet:
                var device = try VirtioNetDevice(function: function, allocator: HugepageAllocator())
                try serve(&device)
            case .ixgbe:
                var device = try IxgbeDevice(function: function, allocator: HugepageAllocator())
                try serve(&device)
            }
        } catch let error as UIOError {
            Console.error("error: \(error)")
            throw ExitCode(1)
        }
    }

    func serve<D: NetworkDevice & ~Copyable>(_ device: inout D) throws {
        let address = IPv4Address(parsing: ip)!
        var handler = EchoHandler(responder: EchoResponder(mac: device.macAddress, ip: address),
                                  statsInterval: statsInterval)
        let policy = SchedulerPolicy(mode: mode, emptyPollsBeforeSleep: idlePolls, batchSize: batch)
        var loop = PacketLoop(policy: policy, tickInterval: .seconds(max(1, statsInterval)))
        StopSignal.installHandlers()
        Console.line("echo-server: \(device.driverName) \(pciAddress) mac \(device.macAddress) ip \(address) link \(device.link) mode \(mode.rawValue): ready")
        try loop.run(device: &device, handler: &handler)
        device.shutdown()
        Console.line("echo-server: stopped, device reset. \(handler.statsLine(&device)) \(loop.statistics.summary)")
    }
}

/// Rewrites each frame into its reply and sends the batch back out.
struct EchoHandler: BatchHandler {
    var responder: EchoResponder
    let statsInterval: Int
    var txDropped: UInt64 = 0

    mutating func handle<D: NetworkDevice & ~Copyable>(_ batch: inout PacketBatch, queue: Int, device: inout D) {
        batch.removeAll { packet in
            switch responder.respond(to: packet.data, length: packet.length, capacity: packet.capacity) {
            case .reply(let length):
                packet.length = length
                return false
            case .drop:
                return true
            }
        }
        if batch.isEmpty { return }
        let toSend = batch.count
        let sent = device.transmit(queue: queue, from: &batch)
        txDropped &+= UInt64(toSend - sent)
    }

    mutating func tick<D: NetworkDevice & ~Copyable>(device: inout D) {
        if statsInterval > 0 { Console.line("echo-server: \(statsLine(&device))") }
    }

    mutating func linkChanged<D: NetworkDevice & ~Copyable>(device: inout D) {
        Console.line("echo-server: link \(device.link)")
    }

    func statsLine<D: NetworkDevice & ~Copyable>(_ device: inout D) -> String {
        let s = device.statistics()
        return "rx=\(s.rxPackets) tx=\(s.txPackets) tx-dropped=\(txDropped) link=\(device.link) \(responder.counters.summary)"
    }
}

extension SchedulerPolicy.Mode: ExpressibleByArgument {}

/// Output that reaches a pipe or file at once (test harnesses wait for `ready`).
enum Console {
    static func line(_ message: String) {
        print(message)
        fflush(nil)
    }

    static func error(_ message: String) {
        let text = message + "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}

EchoServer.main()
