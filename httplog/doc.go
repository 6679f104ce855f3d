// Package httplog is the one record of an HTTP exchange and the one transport that captures it.
//
// Every HTTP call oauthdiag makes goes through a Transport, which copies the request and the
// response (bodies up to a limit, teed as the caller reads them, so nothing streams late) into an
// Exchange. The same Exchange reaches everyone who needs it: the flow step that made the call
// (through a Collector in the request's context), and a Recorder such as the session log, which
// numbers the call before it is sent, so a step knows the exact ids of its calls.
//
// The package also holds what every other package reads off an exchange the same way: the flow
// step a request belongs to (WithStep), the class of a transport failure (Classify), the clock
// skew a server's Date header shows (ClockSkew, MeasureSkew), and the exchange laid out as raw
// HTTP text (Lines, Text) or as JSON (View). Exchanges hold secrets as they were sent: redact
// before showing or storing them.
package httplog
