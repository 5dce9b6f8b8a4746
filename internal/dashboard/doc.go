// Package dashboard is the web dashboard `vigil local` serves next to the API: one
// page (HTML, JavaScript and CSS embedded with go:embed; no build step, nothing
// fetched from elsewhere) showing live detections, the sensors, a timeline of
// events and detections per minute and, for a detection, its event and process
// ancestry.
//
// The page holds no data: it reads detections and sensors from the API
// (/v1/orgs/{org}/...) and the live stream and timeline from this package's
// endpoints, all with the same `Authorization: Bearer` API key. A browser signs in
// by pasting a key or through a one-time login link (/login#<token>), which trades
// the token for an API key of its own, kept in the browser's localStorage.
//
// The live stream is Server-Sent Events (text/event-stream, "detection" events);
// the page reads it with fetch so the key travels in a header, not in the URL.
package dashboard
