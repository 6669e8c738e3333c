// Package web is vmsim's classroom: an HTTP server with a small JSON API
// over the pager's step function and an embedded page that draws what the
// API returns. The page holds no rule of paging: every hit, fault, victim,
// slot and bit it shows comes from [pager.Steps], [pager.Sweep],
// [mrc.Compute] or a real run of package pager/live, the engines of vmsim
// replay and vmsim step.
//
// # Endpoints
//
// Every endpoint but the page and its assets answers JSON, and every error
// is {"error": "what: why"} with a 4xx status for bad input (400), an
// input past a bound (413), a method (405) or a content type (415) it does
// not take, and a 5xx status when the server cannot serve it now (503:
// every run slot busy, or the run hit its deadline) or at all (501: a
// feature not in this build).
//
//	GET  /api/info      policies, built-in strings, formats, limits, what this server can run
//	POST /api/steps     a step playback: every access of a trace, per policy, with the frames in fixed slots
//	POST /api/curve     faults against frames, per policy (Belady's anomalies flagged)
//	POST /api/mrc       the exact LRU miss-ratio curve of a trace
//	POST /api/real      the same runs on real memory beside the simulation, with the kernel's counts when privileged
//	POST /api/exercise  one of the mmap exercises, with its transcript
//	POST /api/check     a C program graded (501 until the grader is built in)
//
// A request body is JSON, or multipart/form-data with a "request" part
// holding the JSON and a "trace" part holding an uploaded trace (any
// format vmsim reads); uploads are read into memory and parsed there,
// never written to or opened from the file system. The page's own files
// come from an embedded file system.
//
// # Bounds
//
// [Limits] bounds what one request can cost: body bytes, accesses, frames,
// policies, curve points and total work, run time (a context deadline), and
// runs at once (a semaphore; real-memory runs one at a time). The
// [http.Server] that serves the handler sets its own timeouts (see
// [NewServer]).
package web
