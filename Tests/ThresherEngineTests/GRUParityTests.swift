import Foundation
import XCTest
@testable import ThresherEngine

/// PyTorch parity for `GRU`: Fixtures/gru_parity.json is written by scripts/parity/gru_fixture.py
/// (nn.GRU, batch_first, pack_padded_sequence with the given lengths). Compares outputs, final
/// hidden and the gradients of loss = Σ w_out·output + Σ w_final·h_n at 1e-5 relative.
final class GRUParityTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            let batch: Int, steps: Int, input_size: Int, hidden_size: Int, num_layers: Int
            let lengths: [Int]
            let params: [String: [Float]], grads: [String: [Float]]
            let input: [Float], h0: [Float], w_out: [Float], w_final: [Float]
            let output: [Float], final_hidden: [Float], d_input: [Float], d_h0: [Float]
        }
        let torch_version: String
        let cases: [Case]
    }

    func assertClose(_ actual: [Float], _ expected: [Float], _ what: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            // 1e-5 relative, with an absolute floor of 1e-5 for values near zero.
            XCTAssertEqual(a, e, accuracy: 1e-5 * max(1, abs(e)), "\(what)[\(i)]", file: file, line: line)
        }
    }

    func testMatchesPyTorch() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "gru_parity", withExtension: "json", subdirectory: "Fixtures"))
        let fixture = try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
        XCTAssertFalse(fixture.cases.isEmpty)
        for c in fixture.cases {
            let gru = GRU(inputSize: c.input_size, hiddenSize: c.hidden_size, numLayers: c.num_layers,
                          namePrefix: "", initialValues: { name, _ in c.params[name] ?? [] })
            XCTAssertEqual(Set(gru.parameters.map(\.name)), Set(c.params.keys))
            let b = c.batch, t = c.steps, h = c.hidden_size, l = c.num_layers
            let input = Tensor(shape: [b, t, c.input_size], storage: c.input)!
            let h0 = Tensor(shape: [l, b, h], storage: c.h0)!
            let (output, final) = gru.forward(input, lengths: c.lengths, initialHidden: h0)
            assertClose(output.storage, c.output, "output")
            assertClose(final.storage, c.final_hidden, "final_hidden")
            let dInput = gru.backward(dOutput: Tensor(shape: [b, t, h], storage: c.w_out)!,
                                      dFinalHidden: Tensor(shape: [l, b, h], storage: c.w_final)!)
            assertClose(dInput.storage, c.d_input, "d_input")
            assertClose(gru.initialHiddenGradient!.storage, c.d_h0, "d_h0")
            for p in gru.parameters { assertClose(p.grad.storage, c.grads[p.name]!, "grad \(p.name)") }
        }
    }
}
