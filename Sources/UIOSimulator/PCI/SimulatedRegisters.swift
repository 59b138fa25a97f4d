import UIO

/// A simulated BAR: every access goes to the device model, the way an MMIO or port access
/// traps into QEMU.
///
/// A plain value (an unretained reference and a BAR number), like `DeviceRegion`: copying it
/// costs nothing, and it stays valid while the `SimulatedPCIFunction` that mapped it lives.
/// Each access borrows the model without retaining it (an `unowned(unsafe)` reference would
/// still be retained around every call), so a driver's register accesses cost no ARC here
/// either, as on hardware.
@frozen
public struct SimulatedRegisters<Model: SimulatedDeviceModel>: RegisterAccess, @unchecked Sendable {
    @usableFromInline let unretainedModel: Unmanaged<Model>
    public let bar: Int

    @inlinable init(model: Model, bar: Int) {
        self.unretainedModel = .passUnretained(model)
        self.bar = bar
    }

    @inlinable public func read8(_ offset: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: unretainedModel._withUnsafeGuaranteedRef { $0.readRegister(bar: bar, offset: offset, width: 1) })
    }

    @inlinable public func read16(_ offset: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: unretainedModel._withUnsafeGuaranteedRef { $0.readRegister(bar: bar, offset: offset, width: 2) })
    }

    @inlinable public func read32(_ offset: Int) -> UInt32 {
        unretainedModel._withUnsafeGuaranteedRef { $0.readRegister(bar: bar, offset: offset, width: 4) }
    }

    @inlinable public func write8(_ offset: Int, _ value: UInt8) {
        unretainedModel._withUnsafeGuaranteedRef { $0.writeRegister(bar: bar, offset: offset, width: 1, value: UInt32(value)) }
    }

    @inlinable public func write16(_ offset: Int, _ value: UInt16) {
        unretainedModel._withUnsafeGuaranteedRef { $0.writeRegister(bar: bar, offset: offset, width: 2, value: UInt32(value)) }
    }

    @inlinable public func write32(_ offset: Int, _ value: UInt32) {
        unretainedModel._withUnsafeGuaranteedRef { $0.writeRegister(bar: bar, offset: offset, width: 4, value: value) }
    }
}
