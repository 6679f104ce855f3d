// Package bundle writes the support-ticket bundle of a recorded session: what a provider's
// support asks for (each failed request and response with its x-li-* ids, the client_id, UTC
// timestamps), the diagnoses, and every call as HAR, with every secret redacted.
//
// A flow stores what it knew and what it diagnosed with its session (SaveFlow), so that a bundle
// written later, by another command, explains the calls exactly as the flow did, and explains the
// calls made after it (replays) in the same context, each with its own diagnosis.
package bundle
