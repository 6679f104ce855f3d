package cli

// schemaVersion is the version of every JSON document oauthdiag prints (docs/json.md). It
// changes only when a field changes meaning or goes away; new fields do not change it.
const schemaVersion = 1
