/// Texts naming a trial: its tooltip line and its parameters.
enum TrialLabel {
    static func params(_ trial: ReportTrial) -> String {
        trial.params.map { "\($0.name)=\($0.value.text)" }.joined(separator: ", ")
    }

    static func tooltip(_ trial: ReportTrial, goal: ReportGoal) -> String {
        var text = "trial \(trial.id) (#\(trial.index)) \(trial.state)"
        if let best = trial.best(goal) { text += ", best \(ReportNumber.text(best))" }
        if let step = trial.lastStep { text += ", last step \(step)" }
        let params = params(trial)
        if !params.isEmpty { text += "\n" + params }
        if let stop = trial.stop { text += "\n" + stop.message }
        return text
    }
}
