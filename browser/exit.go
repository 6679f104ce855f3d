package browser

// Exit statuses of `oauthdiag browse`, which Command callers such as the probe read: 0 the
// redirect carries a code or tokens, 1 any other failure, 2 bad usage, and these two.
const (
	// ExitErrorRedirect: the provider redirected back with error=….
	ExitErrorRedirect = 3
	// ExitStoppedOnPage: the browser stopped on a page it cannot complete (an error page, a
	// refused password, a redirect that carries neither code nor error).
	ExitStoppedOnPage = 4
)
