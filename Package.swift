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
        .library(name: "Ixgbe", targets: ["Ixgbe"]),
        .library(name: "PacketProcessing", targets: ["PacketProcessing"]),
        .library(name: "Scheduler", targets: ["Scheduler"]),
        .executable(name: "uioctl", targets: ["uioctl"]),
        .executable(name: "echo-server", targets: ["echo-server"]),
        .executable(name: "forwarder", targets: ["forwarder"]),
        .executable(name: "pktgen", targets: ["pktgen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
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
        .target(name: "UIOSimulator", dependencies: ["UIO"]),
        .target(name: "Ixgbe", dependencies: ["UIO"]),
        .target(name: "PacketProcessing", dependencies: ["UIO"]),
        .target(name: "Scheduler", dependencies: ["UIO"]),
        .executableTarget(
            name: "uioctl",
            dependencies: [
                "UIO", "UIOSetup", "VFIO", "VirtioNet",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(
            name: "ExampleSupport",
            dependencies: [
                "UIO", "VFIO", "VirtioNet", "Ixgbe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/Support"),
        .executableTarget(
            name: "echo-server",
            dependencies: [
                "UIO", "PacketProcessing", "Scheduler", "ExampleSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/echo-server"),
        .executableTarget(
            name: "forwarder",
            dependencies: [
                "UIO", "PacketProcessing", "Scheduler", "ExampleSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/forwarder"),
        .executableTarget(
            name: "pktgen",
            dependencies: [
                "UIO", "Scheduler", "ExampleSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/pktgen"),
        // The VM test's IOMMU probe (Tests/VM/test_vfio.py): a receive descriptor aimed outside every mapping.
        .executableTarget(
            name: "vfio-stray-dma", dependencies: ["UIO", "VFIO", "VirtioNet"], path: "Tests/VM/StrayDMA"),
        .executableTarget(
            name: "forward-bench", dependencies: ["UIO", "VirtioNet", "UIOSimulator"],
            path: "Benchmarks/forward-bench"),
        .testTarget(name: "UIOTests", dependencies: ["UIO", "UIOSetup", "VFIO"]),
        .testTarget(name: "PacketProcessingTests", dependencies: ["PacketProcessing"]),
        .testTarget(name: "VirtioNetTests", dependencies: ["VirtioNet", "UIO", "UIOSimulator", "PacketProcessing", "Scheduler"]),
        .testTarget(name: "UIOSimulatorTests", dependencies: ["UIOSimulator", "UIO"]),
        .testTarget(name: "IxgbeTests", dependencies: ["Ixgbe", "UIO", "UIOSimulator"]),
    ],
    swiftLanguageModes: [.v6]
)
