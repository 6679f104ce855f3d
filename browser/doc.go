// Package browser hands an authorization URL to something that can log in and consent, and brings
// back the redirect when it can see it: the commands of $BROWSER or else the desktop browser
// (System), a user-given command such as `oauthdiag browse` (Command), the user pasting the redirect
// by hand (Paste), or a built-in headless browser that completes plain-HTML login and consent pages
// itself (Headless). It knows nothing of the rest of the flow, so any caller can use it; its errors
// are its own typed values that say what went wrong and what to do about it.
package browser
