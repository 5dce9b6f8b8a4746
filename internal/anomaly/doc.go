// Package anomaly scores hosts' minute-by-minute activity (HOST_STATS events)
// with isolation forests that behave as scikit-learn's IsolationForest: Fit and
// Forest for the model, HostStatsFeatures for the rows, Trainer, Train and Job
// to train per-group model sets from the lake, Encode and Decode for the
// versioned JSON model file, Scorer and Live to score events in detection (rule
// RuleName) with per-feature explanations. docs/anomaly.md describes the method,
// the file format and how it compares with scikit-learn.
package anomaly
