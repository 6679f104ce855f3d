// Package inspector turns tokens and recorded exchanges into facts and diagnoses.
//
// It answers four questions a person debugging OAuth asks:
//   - What state are my tokens in? TokenState and NextAction (use, refresh or re-authorize).
//   - What does this token say, and can I trust it? DecodeJWT and VerifyJWT.
//   - What does the server think of it? NormalizeIntrospection and Compare.
//   - What went wrong, and what do I do about it? Diagnose and DiagnoseFlow.
//
// Diagnoses are matched on evidence (HTTP status, OAuth error, LinkedIn serviceErrorCode,
// headers, transport failures, local token state) rather than on one server's wording, because
// servers disagree: LinkedIn answers invalid_request where RFC 6749 says invalid_grant, some
// servers omit error_description, and one generic "grant request is invalid" can hide a reused
// code, a wrong PKCE verifier or a mismatched redirect URI. When the evidence cannot tell the
// causes apart, the diagnosis says so (BestGuess) and its fix lists the candidates.
//
// The package never prints, never reads the environment and never imports the UI; rendering
// functions return plain text so the CLI and the TUI share their wording.
package inspector
