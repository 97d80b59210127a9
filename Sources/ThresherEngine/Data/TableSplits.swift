import Foundation

extension DatasetSplits {
    /// A numeric table split train/validation/test by `DatasetSplit` (seeded, 70/15/15 unless
    /// given), each feature standardised with the mean and deviation of the training split only
    /// (fitting on all rows would leak validation and test statistics into training).
    public init(table: NumericTable, source: String, seed: UInt64, trainFraction: Double = 0.7,
                validationFraction: Double = 0.15, standardize: Bool = true) throws(DatasetError) {
        guard let split = DatasetSplit(count: table.rowCount, trainFraction: trainFraction,
                                       validationFraction: validationFraction, seed: seed) else {
            throw .invalid("cannot split \(table.rowCount) rows \(trainFraction)/\(validationFraction)/rest")
        }
        let all = try ClassificationDataset(inputs: .features(table.features), labels: table.labels,
                                            classCount: max(2, table.classCount))
        func features(_ d: ClassificationDataset) -> Tensor {
            if case .features(let x) = d.inputs { return x }
            return Tensor(zeros: [0, table.featureCount])
        }
        var parts = [split.train, split.validation, split.test].map { all.subset($0) }
        if standardize {
            let scaler = Standardizer(fitting: features(parts[0]))
            parts = try parts.map { (d) throws(DatasetError) in
                try ClassificationDataset(inputs: .features(scaler.apply(features(d))), labels: d.labels, classCount: d.classCount)
            }
        }
        try self.init(
            train: parts[0], validation: parts[1].count > 0 ? parts[1] : nil, test: parts[2].count > 0 ? parts[2] : nil,
            description: "\(source): \(table.rowCount) rows of \(table.featureCount) features, \(table.classCount) classes; "
                + "split \(parts[0].count)/\(parts[1].count)/\(parts[2].count) by seed \(seed)"
                + (standardize ? ", standardised on train" : ""))
    }
}
