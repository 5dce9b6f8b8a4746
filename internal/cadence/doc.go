// Package cadence holds the intervals at which a sensor reports and the backend
// records what it reports, in one place for the sensor's defaults
// (sensor/config, sensor/respond), the detect function (internal/detect), the
// commands that judge whether a sensor is live (cmd/vigil) and the cost model
// (internal/cost), so that none of them drifts from the others.
package cadence
