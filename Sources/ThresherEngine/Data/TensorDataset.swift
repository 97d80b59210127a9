import Foundation

/// Reads a tensor dataset from one safetensors file: `x` [N, …] float32 and `y` [N] (integer
/// class ids, any dtype safetensors allows), optionally `val_x`/`val_y` and `test_x`/`test_y`.
///
/// Inputs of rank 2 become feature rows (`mlp`); rank 3 [N, T, D] become already-embedded
/// sequences (`gru-classifier`) whose lengths come from an optional `lengths` (`val_lengths`,
/// `test_lengths`) tensor and are T otherwise. The class count is 1 + the largest label over all
/// splits (at least 2). Labels must be whole numbers ≥ 0; every problem names the tensor.
public enum TensorDataset {
    /// Splits as the file holds them. A file without `val_x` gets no validation split and one
    /// without `test_x` no test split: the trainer then reports training loss only where needed.
    public static func read(path: String) throws(DatasetError) -> DatasetSplits {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(contentsOfFile: path) } catch {
            throw .file(path: path, line: nil, message: "not a readable safetensors file: \(error)")
        }
        let t = file.tensors
        guard t["x"] != nil, t["y"] != nil else {
            throw .file(path: path, line: nil,
                        message: "a tensor dataset needs tensors 'x' [N, …] and 'y' [N]; found \(t.keys.sorted().joined(separator: ", "))")
        }
        var labelSets: [(String, [Int])] = []
        for prefix in ["", "val_", "test_"] {
            guard let y = t[prefix + "y"] else { continue }
            labelSets.append((prefix + "y", try labels(y, name: prefix + "y", path: path)))
        }
        let classCount = max(2, 1 + (labelSets.flatMap(\.1).max() ?? 0))
        func split(_ prefix: String) throws(DatasetError) -> ClassificationDataset? {
            guard let x = t[prefix + "x"] else {
                if t[prefix + "y"] != nil { throw .file(path: path, line: nil, message: "'\(prefix)y' has no '\(prefix)x'") }
                return nil
            }
            guard let labels = labelSets.first(where: { $0.0 == prefix + "y" })?.1 else {
                throw .file(path: path, line: nil, message: "'\(prefix)x' has no '\(prefix)y'")
            }
            guard x.rank >= 2, x.shape[0] == labels.count else {
                throw .file(path: path, line: nil,
                            message: "'\(prefix)x' must be [\(labels.count), …] to match '\(prefix)y', got \(x.shape)")
            }
            let inputs: ClassificationDataset.Inputs
            switch x.rank {
            case 2:
                inputs = .features(x)
            case 3:
                let steps = x.shape[1]
                var lengths = [Int](repeating: steps, count: labels.count)
                if let l = t[prefix + "lengths"] {
                    guard l.shape == [labels.count], l.storage.allSatisfy({ $0 >= 1 && $0 <= Float(steps) && $0.rounded() == $0 }) else {
                        throw .file(path: path, line: nil,
                                    message: "'\(prefix)lengths' must be [\(labels.count)] whole numbers in 1...\(steps)")
                    }
                    lengths = l.storage.map { Int($0) }
                }
                inputs = .sequences(x, lengths: lengths)
            default:
                throw .file(path: path, line: nil, message: "'\(prefix)x' must have rank 2 or 3, got \(x.shape)")
            }
            do { return try ClassificationDataset(inputs: inputs, labels: labels, classCount: classCount) } catch {
                throw .file(path: path, line: nil, message: "\(prefix.isEmpty ? "train" : prefix.dropLast()) split: \(error)")
            }
        }
        guard let train = try split("") else { throw .file(path: path, line: nil, message: "missing 'x'") }
        let validation = try split("val_")
        let test = try split("test_")
        do {
            return try DatasetSplits(
                train: train, validation: validation, test: test,
                description: "\(path): \(train.count) train, \(validation?.count ?? 0) validation, \(test?.count ?? 0) test, \(classCount) classes")
        } catch { throw .file(path: path, line: nil, message: "\(error)") }
    }

    private static func labels(_ y: Tensor, name: String, path: String) throws(DatasetError) -> [Int] {
        guard y.rank == 1 else { throw .file(path: path, line: nil, message: "'\(name)' must be [N], got \(y.shape)") }
        var out: [Int] = []
        out.reserveCapacity(y.count)
        for (i, v) in y.storage.enumerated() {
            guard v.isFinite, v >= 0, v.rounded() == v, v < 1_000_000 else {
                throw .file(path: path, line: nil, message: "'\(name)'[\(i)] is \(v); labels must be whole numbers ≥ 0")
            }
            out.append(Int(v))
        }
        return out
    }
}
