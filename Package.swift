// swift-tools-version:6.1
import PackageDescription

/// Layers, bottom up: the C shim and libpci → `UIO` (the core) → drivers and the simulator
/// → the scheduler → examples. Nothing lower ever imports anything higher.
let package = Package(
    name: "swift-uio",
    products: [
        .library(name: "UIO", targets: ["UIO"]),
        .library(name: "VFIO", targets: ["VFIO"]),
        .library(name: "VirtioNet", targets: ["VirtioNet"]),
        .library(name: "UIOSimulator", targets: ["UIOSimulator"]),
        .library(name: "IntelNIC", targets: ["IntelNIC"]),
        .library(name: "Ixgbe", targets: ["Ixgbe"]),
        .library(name: "Igb", targets: ["Igb"]),
        .library(name: "PacketProcessing", targets: ["PacketProcessing"]),
        .library(name: "Scheduler", targets: ["Scheduler"]),
        .library(name: "UIOService", targets: ["UIOService"]),
        .library(name: "UIODevices", targets: ["UIODevices"]),
        .executable(name: "uioctl", targets: ["uioctl"]),
        .executable(name: "echo-server", targets: ["echo-server"]),
        .executable(name: "forwarder", targets: ["forwarder"]),
        .executable(name: "pktgen", targets: ["pktgen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        // Prometheus text format for the examples' --metrics-file; not a dependency of any library.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // `swift package generate-documentation` (scripts/docs); adds no code to any target.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // Volatile MMIO, barriers and x86 port I/O: the only things Swift cannot express.
        .target(name: "CUIOShim", path: "Sources/CUIOShim"),
        // libpci (Debian: libpci-dev) for enumeration and config space.
        .systemLibrary(
            name: "CLibPCI", path: "Sources/CLibPCI", pkgConfig: "libpci",
            providers: [.apt(["libpci-dev"])]),
        .target(
            name: "UIO",
            dependencies: [
                "CUIOShim", "CLibPCI",
                .product(name: "SystemPackage", package: "swift-system"),
            ]),
        // The VFIO route: the same PCIFunction and DMAAllocator protocols, with IOMMU-confined DMA.
        .target(name: "VFIO", dependencies: ["UIO", "CUIOShim"]),
        // Binding devices and udev rules: what `uioctl bind/unbind/udev` does, testable on fake trees.
        .target(name: "UIOSetup", dependencies: ["UIO", "VFIO"]),
        .target(name: "VirtioNet", dependencies: ["UIO"]),
        // Device models that stand in for hardware: drivers run against them unchanged.
        .target(name: "UIOSimulator", dependencies: ["UIO", "CUIOShim"]),
        // The advanced descriptor rings that the Intel drivers share; each chip keeps its own
        // registers and init sequence.
        .target(name: "IntelNIC", dependencies: ["UIO"]),
        .target(name: "Ixgbe", dependencies: ["UIO", "IntelNIC"]),
        .target(name: "Igb", dependencies: ["UIO", "IntelNIC"]),
        .target(name: "PacketProcessing", dependencies: ["UIO"]),
        .target(
            name: "Scheduler",
            dependencies: [
                "UIO", "CUIOShim",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),
        // A PacketLoop as a swift-service-lifecycle Service (SIGTERM stops it, device reset).
        .target(
            name: "UIOService",
            dependencies: [
                "UIO", "Scheduler",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // Opening the device at a PCI address with the driver its PCI ID needs, through UIO or
        // VFIO: what every application (and example) starts with.
        .target(
            name: "UIODevices",
            dependencies: [
                "UIO", "VFIO", "VirtioNet", "Ixgbe", "Igb", "Scheduler",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "uioctl",
            dependencies: [
                // UIODevices: the driver registry (`list`, `status`, `doctor` name each device's driver).
                "UIO", "UIOSetup", "VFIO", "VirtioNet", "UIODevices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(
            name: "ExampleSupport",
            dependencies: [
                "UIO", "VFIO", "UIODevices", "Scheduler",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Examples/Support"),
        .executableTarget(
            name: "echo-server",
            dependencies: [
                "UIO", "PacketProcessing", "Scheduler", "ExampleSupport", "UIODevices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/echo-server"),
        .executableTarget(
            name: "forwarder",
            dependencies: [
                "UIO", "PacketProcessing", "Scheduler", "ExampleSupport", "UIODevices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/forwarder"),
        .executableTarget(
            name: "pktgen",
            dependencies: [
                "UIO", "Scheduler", "ExampleSupport", "UIODevices",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/pktgen"),
        // The VM test's IOMMU probe (Tests/VM/test_vfio.py): a receive descriptor aimed outside every mapping.
        .executableTarget(
            name: "vfio-stray-dma", dependencies: ["UIO", "VFIO", "VirtioNet"], path: "Tests/VM/StrayDMA"),
        .executableTarget(
            name: "forward-bench",
            dependencies: [
                "UIO", "VirtioNet", "Ixgbe", "UIOSimulator", "Scheduler", "ExampleSupport",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Benchmarks/forward-bench"),
        .testTarget(name: "UIOTests", dependencies: ["UIO", "UIOSetup", "VFIO", "UIODevices", "FakeHardware"]),
        .testTarget(name: "PacketProcessingTests", dependencies: ["PacketProcessing"]),
        .testTarget(name: "VirtioNetTests", dependencies: ["VirtioNet", "UIO", "UIOSimulator", "PacketProcessing", "Scheduler"]),
        .testTarget(name: "UIOSimulatorTests", dependencies: ["UIOSimulator", "UIO"]),
        .testTarget(name: "IxgbeTests", dependencies: ["Ixgbe", "IntelNIC", "UIO", "UIOSimulator", "FakeHardware"]),
        .testTarget(
            name: "UIOServiceTests",
            dependencies: [
                "UIOService", "UIO", "Scheduler", "VirtioNet", "UIOSimulator",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        // Test helpers shared by the test targets (not products): captured log records; a fake
        // PCI function and DMA allocator for the Intel drivers' register-level tests.
        .target(name: "LogTesting", dependencies: [.product(name: "Logging", package: "swift-log")], path: "Tests/LogTesting"),
        .target(name: "FakeHardware", dependencies: ["UIO"], path: "Tests/FakeHardware"),
        // PacketLoop on simulated NICs: thresholds, the arm/sleep race, timeouts, link changes.
        .testTarget(
            name: "SchedulerTests",
            dependencies: [
                "Scheduler", "UIO", "UIOSimulator", "VirtioNet", "Ixgbe", "LogTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]),
        .testTarget(
            name: "UIODevicesTests",
            dependencies: ["UIODevices", "UIO", "UIOSimulator", "VirtioNet", "Ixgbe", "Scheduler", "LogTesting",
                           .product(name: "Logging", package: "swift-log")]),
        // The examples' Prometheus file, checked by promtool.
        .testTarget(
            name: "ExampleSupportTests",
            dependencies: ["ExampleSupport", "Scheduler", "UIO", "UIOSimulator", "VirtioNet"]),
        .testTarget(name: "IgbTests", dependencies: ["Igb", "IntelNIC", "UIO", "UIOSimulator", "FakeHardware"]),
    ],
    swiftLanguageModes: [.v6]
)
