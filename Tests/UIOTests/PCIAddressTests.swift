import Testing
@testable import UIO

@Suite struct PCIAddressTests {
    @Test func parsesTheLongForm() throws {
        let address = try PCIAddress(parsing: "0000:00:03.0")
        #expect(address == PCIAddress(domain: 0, bus: 0, device: 3, function: 0))
        #expect(address.description == "0000:00:03.0")
    }

    @Test func parsesTheShortFormAsDomainZero() throws {
        let address = try PCIAddress(parsing: "3b:1f.7")
        #expect(address == PCIAddress(domain: 0, bus: 0x3b, device: 0x1f, function: 7))
        #expect(address.description == "0000:3b:1f.7")
    }

    @Test func parsesUpperCaseAndHighDomains() throws {
        let address = try PCIAddress(parsing: "ABCD:FF:0A.1")
        #expect(address == PCIAddress(domain: 0xabcd, bus: 0xff, device: 0x0a, function: 1))
    }

    @Test func ordersByDomainBusDeviceFunction() throws {
        let sorted = try ["0001:00:00.0", "0000:01:00.0", "0000:00:02.1", "0000:00:02.0"].map(PCIAddress.init(parsing:)).sorted()
        #expect(sorted.map(\.description) == ["0000:00:02.0", "0000:00:02.1", "0000:01:00.0", "0001:00:00.0"])
    }

    @Test(arguments: [
        ("3.0", "it needs two or three ':'-separated fields"),
        ("0:0:0:0.0", "it needs two or three ':'-separated fields"),
        ("0000:00:03", "the device and function must be separated by '.'"),
        ("0000:00:03.0.1", "the device and function must be separated by '.'"),
        ("00000:00:03.0", "domain '00000' is not a hex number of at most 4 digits"),
        ("0000::03.0", "bus '' is not a hex number of at most 2 digits"),
        ("00:zz.0", "device 'zz' is not a hex number of at most 2 digits"),
        ("00:+1.0", "device '+1' is not a hex number of at most 2 digits"),
        ("00:03.", "function '' is not a hex number of at most 1 digits"),
        ("0000:00:20.0", "device 20 is above 1f"),
        ("0000:00:03.8", "function 8 is above 7"),
    ])
    func rejectsMalformedInputWithTheReason(input: String, reason: String) {
        #expect(throws: UIOError.invalidPCIAddress(input, reason: reason)) { try PCIAddress(parsing: input) }
    }

    @Test func errorTextSaysWhatIsExpected() {
        let error = UIOError.invalidPCIAddress("00:zz.0", reason: "device 'zz' is not a hex number of at most 2 digits")
        #expect(error.description == "invalid PCI address '00:zz.0': device 'zz' is not a hex number of at most 2 digits; expected DDDD:BB:DD.F, for example 0000:00:04.0 (see `uioctl list`)")
    }
}
