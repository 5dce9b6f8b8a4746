package collector

// MissingUringFileOps is missingUringFileOps, for tests.
var MissingUringFileOps = missingUringFileOps
