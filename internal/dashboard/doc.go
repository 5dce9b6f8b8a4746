// Package dashboard is the web dashboard `vigil local` serves next to the API: one
// page (HTML, JavaScript and CSS embedded with go:embed; no build step, nothing
// fetched from elsewhere) for triage: live detections, filtered by severity,
// status, rule, host, tag and time; the sensors; a clickable timeline of events
// and detections per minute; and, for a detection, its rule's description, MITRE
// techniques and maturity, its event's key fields, its status, assignee and
// comments (changed through the API), why it fired, the process tree and events
// around it, and its event.
//
// The page's state is its address: the filters and the open detection are query
// parameters (?status=new&rule=...&detection=<id>), pushed to the history, so
// views and detections are links and back and forward work. Which key fields an
// event shows first is decided by its type in one place, KEY_FIELDS in app.js.
// docs/triage.md ("The dashboard as a console") describes it for users.
//
// The page holds no data: it reads detections and sensors from the API
// (/v1/orgs/{org}/...) and the live stream and timeline from this package's
// endpoints.
//
// # Sessions
//
// A browser signs in through a one-time login link (/login#<token>; the token
// stays in the fragment, out of logs and history) or by pasting an API key: both
// open a server-side session, never a key of the browser's own. The session id
// (256 random bits) lives only in the session cookie — HttpOnly, SameSite=Strict,
// Path=/, Secure when served over TLS — and the store keeps its SHA-256
// (SessionStore), with the org, the key it was opened with and its times. A
// session ends after Idle without use (default 12 h), after MaxAge whatever its
// use (default 7 days), when the browser signs out (POST /dashboard/logout ends
// it in the store and clears the cookie), and when the key it was opened with is
// revoked. The page keeps nothing in localStorage (and removes the key earlier
// versions kept there).
//
// Every /dashboard/ endpoint but login, and through API every /v1/ route the
// page calls, accepts either an Authorization: Bearer key (checked as the API
// checks it) or the session cookie. A session acts as the key it was opened
// with: API admits its requests with that key's name and role
// (api.WithIdentity), so a viewer's session reads but cannot change a
// detection's status, and changes are recorded under the key's name. A login
// link's session acts as the owner of vigil local (api.WithOrg: admin, recorded
// as "local"). A sensor key cannot sign in, and a session stored by an earlier
// version without its key's role is refused (sign in again). A request carrying
// an Authorization header is always judged by its key.
//
// # CSRF
//
// A state-changing request (any method but GET, HEAD and OPTIONS: task creation,
// key management, sign-out) made with the session cookie must carry the
// session's CSRF token in X-CSRF-Token — derived from the session id, handed to
// the page by the sign-in and whoami answers — and, when the browser says where
// it comes from, come from this origin: Sec-Fetch-Site must be same-origin and
// Origin the server's own scheme and host. Sign-in checks the origin the same
// way. Requests authenticated by a Bearer key need neither: a browser never adds
// that header on its own.
//
// The live stream is Server-Sent Events (text/event-stream, "detection" events),
// authenticated by the cookie like the rest.
//
// The page parses API answers keeping integers beyond 2^53 (event times in Unix
// nanoseconds) exact, as BigInt, and prints them back digit for digit in the
// event's JSON.
package dashboard
