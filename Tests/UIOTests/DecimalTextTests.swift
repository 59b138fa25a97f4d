import Testing
import UIO

struct DecimalTextTests {
    @Test(arguments: [
        (12.5, 2, "12.50"), (0.0, 3, "0.000"), (1.0 / 3.0, 3, "0.333"), (2.0 / 3.0, 1, "0.7"),
        (-1.25, 1, "-1.3"), (-0.0001, 2, "0.00"), (1234567.891, 0, "1234568"), (0.05, 1, "0.1"),
        (Double.infinity, 2, "inf"), (Double.nan, 2, "nan"),
    ])
    func printsFixedDecimals(value: Double, digits: Int, expected: String) {
        #expect(value.decimalText(digits) == expected)
    }
}
