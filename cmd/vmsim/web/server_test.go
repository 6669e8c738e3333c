package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/exercise"
)

// childEnv marks a run of the test binary as the second process of a
// two-process exercise, as vmsim starts itself.
const childEnv = "VMSIM_WEB_EXERCISE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := exercise.RunChild(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func spawnSelf(args []string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "GORACE=atexit_sleep_ms=0")
	return cmd, nil
}

// post sends body (JSON) to path and returns the status and the decoded
// response.
func post(t *testing.T, h http.Handler, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	if strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	}
	return rec.Code, m
}

// upload sends a multipart request: the JSON and a trace file.
func upload(t *testing.T, h http.Handler, path, request, name string, data []byte) (int, map[string]any) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	require.NoError(t, mw.WriteField("request", request))
	fw, err := mw.CreateFormFile("trace", name)
	require.NoError(t, err)
	fw.Write(data)
	require.NoError(t, mw.Close())
	req := httptest.NewRequest("POST", path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), rec.Body.String())
	return rec.Code, m
}

func runOf(t *testing.T, resp map[string]any, i int) map[string]any {
	t.Helper()
	runs, ok := resp["runs"].([]any)
	require.True(t, ok, "runs in %v", resp)
	require.Greater(t, len(runs), i)
	return runs[i].(map[string]any)
}

func TestStepsTextbookCounts(t *testing.T) {
	h := New(nil)
	code, resp := post(t, h, "/api/steps", `{"trace":{"builtin":"textbook"},"policies":["fifo","lru","opt"],"frames":3}`)
	require.Equal(t, http.StatusOK, code, resp)
	for i, want := range []float64{15, 12, 9} {
		run := runOf(t, resp, i)
		assert.Equal(t, want, run["totals"].(map[string]any)["faults"], run["policy"])
		steps := run["steps"].([]any)
		require.Len(t, steps, 20)
		last := steps[19].(map[string]any)
		assert.Equal(t, want, last["totals"].(map[string]any)["faults"], "the running total ends at the run's")
	}
	// FIFO after access 10 (index 9): slots 4 2 3, 0 the victim; the next
	// victim is 4.
	st := runOf(t, resp, 0)["steps"].([]any)[9].(map[string]any)
	var slots []float64
	for _, s := range st["slots"].([]any) {
		slots = append(slots, s.(map[string]any)["page"].(float64))
	}
	assert.Equal(t, []float64{4, 2, 3}, slots)
	assert.Equal(t, 0.0, st["victim"])
	assert.Equal(t, 2.0, st["slot"])
	assert.Equal(t, 4.0, st["next_victim"])
	assert.Equal(t, []any{4.0, 2.0, 3.0}, st["order"])
	tr := resp["trace"].(map[string]any)
	assert.Equal(t, 20.0, tr["accesses"])
	assert.Equal(t, 7.0, tr["pages"].([]any)[0])
}

func TestStepsPolicyState(t *testing.T) {
	h := New(nil)
	code, resp := post(t, h, "/api/steps", `{"trace":{"text":"1 2 1 3 4 2w"},"policies":["clock","arc","opt","aging"],"frames":3}`)
	require.Equal(t, http.StatusOK, code, resp)
	step := func(run, i int) map[string]any { return runOf(t, resp, run)["steps"].([]any)[i].(map[string]any) }
	slot := func(st map[string]any, i int) map[string]any { return st["slots"].([]any)[i].(map[string]any) }

	// clock at access 4: every R bit set, the hand clears them all and
	// comes back to frame 0: 4 takes 1's slot, the hand moves to frame 1.
	c := step(0, 4)
	assert.Equal(t, 1.0, c["victim"])
	assert.Equal(t, 0.0, c["slot"])
	assert.Equal(t, true, slot(c, 1)["hand"])
	assert.Equal(t, 0.0, slot(c, 1)["ref"])
	assert.Equal(t, 1.0, slot(c, 0)["ref"])
	assert.Equal(t, "hand at frame 1", c["note"])
	// arc: 2 left T1 for the ghost list B1, then came back to T2, dirty.
	a := step(1, 4)
	assert.Equal(t, []any{map[string]any{"name": "B1", "pages": []any{2.0}}, map[string]any{"name": "B2", "pages": []any{}}}, a["ghosts"])
	a = step(1, 5)
	s := slot(a, int(a["slot"].(float64)))
	assert.Equal(t, "T2", s["list"])
	assert.Equal(t, true, s["dirty"])
	// opt: next uses, and "never" as no key.
	o := slot(step(2, 0), 0)
	assert.Equal(t, "next", o["key_name"])
	assert.Equal(t, 2.0, o["key"])
	o = slot(step(2, 5), int(step(2, 5)["slot"].(float64)))
	assert.Equal(t, "next", o["key_name"])
	assert.NotContains(t, o, "key", "never used again")
	// aging: counters.
	g := slot(step(3, 3), 0)
	assert.Equal(t, "c", g["key_name"])
}

// TestDirtyPagesAreWrittenBack: a write marks its page dirty (on a fault,
// and on a hit, which is a protection fault of the clean page mapped
// read-only), the page stays dirty while resident, and evicting it writes
// it back; a clean victim is not. FIFO, 3 frames, "1w 2 3 2w 4 5 6": 4
// evicts 1 (written at its fault), 5 evicts 2 (written at a hit), 6 evicts
// 3 (never written).
func TestDirtyPagesAreWrittenBack(t *testing.T) {
	h := New(nil)
	const trace = `{"text":"1w 2 3 2w 4 5 6"}`
	code, resp := post(t, h, "/api/steps", `{"trace":`+trace+`,"policies":["fifo"],"frames":3}`)
	require.Equal(t, http.StatusOK, code, resp)
	assert.Equal(t, []any{true, false, false, true, false, false, false}, resp["trace"].(map[string]any)["writes"])
	run := runOf(t, resp, 0)
	steps := run["steps"].([]any)
	require.Len(t, steps, 7)
	// dirty gives, per step, each slot's page and whether it is dirty.
	type slot struct {
		page  float64
		dirty bool
	}
	dirty := func(i int) []slot {
		var out []slot
		for _, sl := range steps[i].(map[string]any)["slots"].([]any) {
			if sl == nil {
				out = append(out, slot{-1, false})
				continue
			}
			m := sl.(map[string]any)
			out = append(out, slot{m["page"].(float64), m["dirty"].(bool)})
		}
		return out
	}
	for i, want := range []struct {
		kind        string
		writtenBack bool
		writebacks  float64
		slots       []slot
	}{
		{"fault", false, 0, []slot{{1, true}, {-1, false}, {-1, false}}},
		{"fault", false, 0, []slot{{1, true}, {2, false}, {-1, false}}},
		{"fault", false, 0, []slot{{1, true}, {2, false}, {3, false}}},
		{"protection", false, 0, []slot{{1, true}, {2, true}, {3, false}}},
		{"fault", true, 1, []slot{{4, false}, {2, true}, {3, false}}},
		{"fault", true, 2, []slot{{4, false}, {5, false}, {3, false}}},
		{"fault", false, 2, []slot{{4, false}, {5, false}, {6, false}}},
	} {
		st := steps[i].(map[string]any)
		assert.Equal(t, want.kind, st["kind"], "access %d", i+1)
		assert.Equal(t, want.writtenBack, st["written_back"], "access %d", i+1)
		assert.Equal(t, want.writebacks, st["totals"].(map[string]any)["writebacks"], "access %d", i+1)
		assert.Equal(t, want.slots, dirty(i), "access %d", i+1)
	}
	assert.Equal(t, map[string]any{"accesses": 7.0, "hits": 1.0, "faults": 6.0, "evictions": 3.0, "writebacks": 2.0, "protection_faults": 1.0}, run["totals"])

	// Real memory writes the same two pages back, and takes the same
	// protection fault.
	code, resp = post(t, h, "/api/real", `{"trace":`+trace+`,"policies":["fifo"],"frames":3}`)
	require.Equal(t, http.StatusOK, code, resp)
	r := runOf(t, resp, 0)
	assert.Equal(t, true, r["agree"])
	for _, side := range []string{"sim", "real"} {
		assert.Equal(t, 2.0, r[side].(map[string]any)["writebacks"], side)
		assert.Equal(t, 3.0, r[side].(map[string]any)["evictions"], side)
		assert.Equal(t, 1.0, r[side].(map[string]any)["protection_faults"], side)
	}
	assert.Equal(t, 7.0, r["user_faults"], "6 faults and 1 protection fault caught in user space")
}

func TestCurveShowsBeladysAnomaly(t *testing.T) {
	h := New(nil)
	code, resp := post(t, h, "/api/curve", `{"trace":{"builtin":"belady"},"policies":["fifo","lru"],"from":1,"to":5}`)
	require.Equal(t, http.StatusOK, code, resp)
	fifo := resp["series"].([]any)[0].(map[string]any)["points"].([]any)
	assert.Equal(t, 9.0, fifo[2].(map[string]any)["faults"])
	assert.Equal(t, 10.0, fifo[3].(map[string]any)["faults"])
	assert.Equal(t, []any{map[string]any{"policy": "fifo", "frames": 4.0, "faults": 10.0, "fewer_frames": 3.0, "fewer_faults": 9.0}}, resp["anomalies"], "LRU, a stack algorithm, has none")

	req := httptest.NewRequest("POST", "/api/curve?format=csv", strings.NewReader(`{"trace":{"builtin":"belady"},"policies":["fifo"],"from":3,"to":4}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "trace,policy,frames,faults,miss_ratio,accesses\nbelady,fifo,3,9,0.750000,12\nbelady,fifo,4,10,0.833333,12\n", rec.Body.String())
	assert.Contains(t, rec.Header().Get("Content-Disposition"), "curve.csv")
}

func TestMRCOfAnUpload(t *testing.T) {
	h := New(nil)
	code, resp := upload(t, h, "/api/mrc", `{"trace":{}}`, "t.rw", []byte("R 0x1000\nR 0x2000\nW 0x1000\nR 0x3000\nR 0x2000\n"))
	require.Equal(t, http.StatusOK, code, resp)
	pts := resp["points"].([]any)
	require.Len(t, pts, 3, "one point per frame count up to the 3 distinct pages")
	// Distances: inf, inf, 2, inf, 3: LRU misses 5, 4, 3 with 1, 2, 3 frames.
	for i, want := range []float64{5, 4, 3} {
		assert.Equal(t, want, pts[i].(map[string]any)["faults"])
	}
	assert.Equal(t, "t.rw", resp["trace"].(map[string]any)["name"])
}

func TestRealBesideSimulation(t *testing.T) {
	h := New(nil)
	code, resp := post(t, h, "/api/real", `{"trace":{"builtin":"textbook"},"policies":["fifo","lru","opt"],"frames":3}`)
	require.Equal(t, http.StatusOK, code, resp)
	for i, want := range []float64{15, 12, 9} {
		run := runOf(t, resp, i)
		assert.Equal(t, want, run["real"].(map[string]any)["faults"])
		assert.Equal(t, want, run["sim"].(map[string]any)["faults"])
		assert.Equal(t, want, run["user_faults"])
		assert.Equal(t, true, run["agree"])
		assert.NotContains(t, run, "kernel", "no meter given")
	}
	assert.Equal(t, false, resp["kernel"])
}

func TestExercises(t *testing.T) {
	h := New(&Options{Spawn: spawnSelf})
	for _, tc := range []struct {
		body string
		says string
	}{
		{`{"name":"mprotect"}`, "check: one fault: ok"},
		{`{"name":"remap"}`, "base[0] = A"},
		{`{"name":"beyond-eof"}`, "SIGBUS"},
		{`{"name":"shared-anon","private":true}`, "MAP_PRIVATE"},
	} {
		t.Run(tc.body, func(t *testing.T) {
			code, resp := post(t, h, "/api/exercise", tc.body)
			require.Equal(t, http.StatusOK, code, resp)
			assert.Equal(t, true, resp["ok"], resp["failed"])
			assert.Contains(t, resp["transcript"], tc.says)
		})
	}
}

func TestInfo(t *testing.T) {
	h := New(&Options{KernelNote: "needs root"})
	req := httptest.NewRequest("GET", "/api/info", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	var in infoJSON
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &in))
	assert.Len(t, in.Policies, 14)
	assert.Equal(t, policyInfo{"fifo", "first in, first out: evict the page loaded earliest", "oldest load first", true}, in.Policies[0])
	assert.Equal(t, availability{false, "needs root"}, in.Kernel)
	assert.False(t, in.Check.Available)
	assert.Equal(t, 2000, in.Limits.MaxStepAccesses)
	for _, e := range in.Exercises {
		assert.NotContains(t, e.Name, "shared", "no spawner: no two-process exercise")
	}
}

func TestPageAndAssets(t *testing.T) {
	h := New(nil)
	for _, path := range []string{"/", "/app.js", "/style.css"} {
		req := httptest.NewRequest("GET", path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusOK, rec.Code, path)
		assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'self'", path)
		assert.NotRegexp(t, `(src|href|action)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|fetch\(\s*["'](https?:)?//`, rec.Body.String(), "%s loads nothing from other hosts", path)
	}
	// No path leaves the embedded files.
	for _, path := range []string{"/../server.go", "/%2e%2e/server.go", "/static/../server.go", "/etc/passwd"} {
		req := httptest.NewRequest("GET", "/", nil)
		req.URL.Path = path
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.NotContains(t, rec.Body.String(), "package web", path)
		assert.NotEqual(t, http.StatusOK, rec.Code, path)
	}
}

// TestBadInput: every bad input gets a 4xx (or the 5xx of what the server
// cannot do) and one JSON error that says what and why.
func TestBadInput(t *testing.T) {
	h := New(&Options{Limits: Limits{MaxBody: 4096, MaxStepAccesses: 50, MaxFrames: 16, MaxPolicies: 3, MaxCurvePoints: 10, MaxCurveFrames: 100, MaxWork: 1000, MaxRealPages: 4, MaxRealAccesses: 30}, NoReal: false})
	sim := New(&Options{NoReal: true})
	big := `{"trace":{"text":"` + strings.Repeat("1 ", 3000) + `"},"policies":["fifo"],"frames":3}`
	tests := []struct {
		name string
		h    http.Handler
		path string
		body string
		code int
		err  string
	}{
		{"a typed string that is not pages", h, "/api/steps", `{"trace":{"text":"1 2\n3\nx"},"policies":["fifo"],"frames":3}`, 400, `line 3: "x": expected a page number`},
		{"not JSON", h, "/api/steps", `{"trace":`, 400, "the request is not JSON"},
		{"no body", h, "/api/steps", ``, 400, "no JSON body"},
		{"an unknown field", h, "/api/steps", `{"trace":{"text":"1"},"policies":["fifo"],"frames":3,"colour":1}`, 400, `unknown field "colour"`},
		{"a field of the wrong type", h, "/api/steps", `{"trace":{"text":"1"},"policies":"fifo","frames":3}`, 400, `"policies": expected an array of strings like ["fifo", "lru"], not a string`},
		{"two JSON values", h, "/api/steps", `{"trace":{"text":"1"},"policies":["fifo"],"frames":3} {}`, 400, "more than one JSON value"},
		{"no trace", h, "/api/steps", `{"policies":["fifo"],"frames":3}`, 400, "give one trace"},
		{"two traces", h, "/api/steps", `{"trace":{"text":"1","builtin":"belady"},"policies":["fifo"],"frames":3}`, 400, "give one trace"},
		{"an empty trace", h, "/api/steps", `{"trace":{"text":"# nothing"},"policies":["fifo"],"frames":3}`, 400, "no access"},
		{"an unknown builtin", h, "/api/steps", `{"trace":{"builtin":"fibonacci"},"policies":["fifo"],"frames":3}`, 400, `builtin "fibonacci": want textbook, belady, loop, zipf, phases`},
		{"a generated string too long", h, "/api/steps", `{"trace":{"builtin":"zipf","n":51},"policies":["fifo"],"frames":3}`, 413, "n 51: more than 50 accesses"},
		{"a working set larger than the pages", h, "/api/steps", `{"trace":{"builtin":"phases","distinct":4,"ws":5},"policies":["fifo"],"frames":3}`, 400, "ws 5 is larger than distinct 4"},
		{"a bad alpha", h, "/api/steps", `{"trace":{"builtin":"zipf","alpha":-1},"policies":["fifo"],"frames":3}`, 400, "alpha -1"},
		{"no policy", h, "/api/steps", `{"trace":{"text":"1"},"policies":[],"frames":3}`, 400, "policies: give at least one"},
		{"an unknown policy", h, "/api/steps", `{"trace":{"text":"1"},"policies":["lifo"],"frames":3}`, 400, `policies: "lifo": want fifo, lru`},
		{"a policy twice", h, "/api/steps", `{"trace":{"text":"1"},"policies":["lru","lru"],"frames":3}`, 400, `policies: "lru" twice`},
		{"too many policies", h, "/api/steps", `{"trace":{"text":"1"},"policies":["fifo","lru","opt","arc"],"frames":3}`, 413, "4 of them, more than 3"},
		{"no frames", h, "/api/steps", `{"trace":{"text":"1"},"policies":["fifo"],"frames":0}`, 400, "frames 0: want at least 1"},
		{"too many frames", h, "/api/steps", `{"trace":{"text":"1"},"policies":["fifo"],"frames":17}`, 413, "frames 17: more than 16"},
		{"a body past the bound", h, "/api/steps", big, 413, "larger than 4096 bytes"},
		{"a trace past the step bound", h, "/api/steps", `{"trace":{"text":"` + strings.Repeat("1 ", 51) + `"},"policies":["fifo"],"frames":3}`, 413, "more than 50 accesses, the most a step playback shows"},
		{"a curve from 0 frames", h, "/api/curve", `{"trace":{"text":"1"},"policies":["fifo"],"from":0,"to":3}`, 400, "frames from 0"},
		{"a curve backwards", h, "/api/curve", `{"trace":{"text":"1"},"policies":["fifo"],"from":5,"to":3}`, 400, "to 3 is below from 5"},
		{"a curve past the frames bound", h, "/api/curve", `{"trace":{"text":"1"},"policies":["fifo"],"from":1,"to":101,"step":20}`, 413, "frames to 101: more than 100"},
		{"a curve of too many points", h, "/api/curve", `{"trace":{"text":"1"},"policies":["fifo"],"from":1,"to":11}`, 413, "11 frame counts: more than 10"},
		{"a curve of too much work", h, "/api/curve", `{"trace":{"text":"` + strings.Repeat("1 2 ", 100) + `"},"policies":["fifo","lru"],"from":1,"to":3}`, 413, "200 accesses × 6 runs is 1200 steps, more than 1000"},
		{"a bad format query", h, "/api/curve?format=xml", `{}`, 400, `format "xml": want json or csv`},
		{"a bad upload format", h, "/api/mrc", "", 400, `format "word"`},
		{"a bad mechanism", h, "/api/real", `{"trace":{"text":"1"},"policies":["fifo"],"frames":3,"mechanism":"magic"}`, 400, `mechanism "magic": want mprotect, remap, uffd`},
		{"a real run of too many pages", h, "/api/real", `{"trace":{"text":"1 2 3 4 5"},"policies":["fifo"],"frames":3}`, 413, "5 distinct pages, more than 4"},
		{"a real run too long", h, "/api/real", `{"trace":{"text":"` + strings.Repeat("1 ", 31) + `"},"policies":["fifo"],"frames":3}`, 413, "more than 30 accesses, the most a real run takes"},
		{"real memory on a simulation-only server", sim, "/api/real", `{"trace":{"text":"1"},"policies":["fifo"],"frames":3}`, 501, "this server runs simulations only"},
		{"an unknown exercise", h, "/api/exercise", `{"name":"fork-bomb"}`, 400, `exercise "fork-bomb": want mprotect`},
		{"private for an exercise without it", h, "/api/exercise", `{"name":"remap","private":true}`, 400, "takes no private option"},
		{"a two-process exercise without a spawner", h, "/api/exercise", `{"name":"shared-file"}`, 501, "starts a second process"},
		{"check without a grader", h, "/api/check", `{"exercise":"mprotect"}`, 501, "not in this build"},
		{"an unknown endpoint", h, "/api/nope", `{}`, 404, "no such endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var code int
			var resp map[string]any
			if tt.name == "a bad upload format" {
				code, resp = upload(t, tt.h, tt.path, `{"trace":{"format":"word"}}`, "t.doc", []byte("1 2 3"))
			} else {
				code, resp = post(t, tt.h, tt.path, tt.body)
			}
			assert.Equal(t, tt.code, code, resp)
			require.Contains(t, resp, "error")
			assert.Contains(t, resp["error"], tt.err)
			assert.Len(t, resp, 1, "the error alone")
		})
	}
}

// TestTypeErrorsInWords: a value of the wrong JSON type is refused in
// words, with an example, and the field's JSON path: never the name of a
// Go type or of an embedded struct.
func TestTypeErrorsInWords(t *testing.T) {
	h := New(&Options{Check: fakeChecker{}})
	for _, tc := range []struct{ path, body, want string }{
		{"/api/steps", `{"trace":"7 0 1","policies":["fifo"],"frames":3}`, `"trace": expected an object like {"text": "7 0 1"}, not a string`},
		{"/api/real", `{"trace":"7 0 1","policies":["fifo"],"frames":3}`, `"trace": expected an object like {"text": "7 0 1"}, not a string`},
		{"/api/mrc", `{"trace":[7,0,1]}`, `"trace": expected an object like {"text": "7 0 1"}, not an array`},
		{"/api/steps", `{"trace":{"text":"1"},"policies":"fifo","frames":3}`, `"policies": expected an array of strings like ["fifo", "lru"], not a string`},
		{"/api/curve", `{"trace":{"text":"1"},"policies":["fifo",1],"from":1,"to":3}`, `"policies": expected an array of strings like ["fifo", "lru"], not an array holding a number`},
		{"/api/steps", `{"trace":{"text":"1"},"policies":["fifo"],"frames":"3"}`, `"frames": expected a whole number like 3, not a string`},
		{"/api/real", `{"trace":{"text":"1"},"policies":["fifo"],"frames":2.5}`, `"frames": expected a whole number like 3, not 2.5`},
		{"/api/steps", `{"trace":{"text":"1"},"policies":["fifo"],"frames":true}`, `"frames": expected a whole number like 3, not a boolean`},
		{"/api/steps", `{"trace":{"builtin":"zipf","n":-1},"policies":["fifo"],"frames":3}`, `"trace.n": expected a whole number, 0 or more, like 3, not -1`},
		{"/api/steps", `{"trace":{"builtin":"zipf","alpha":"big"},"policies":["fifo"],"frames":3}`, `"trace.alpha": expected a number like 1.5, not a string`},
		{"/api/steps", `{"trace":{"text":["7","0"]},"policies":["fifo"],"frames":3}`, `"trace.text": expected a string like "7 0 1", not an array`},
		{"/api/real", `{"trace":{"text":"1"},"policies":["fifo"],"frames":3,"mechanism":3}`, `"mechanism": expected a string like "mprotect", not a number`},
		{"/api/exercise", `{"name":"shared-file","private":"yes"}`, `"private": expected true or false, not a string`},
		{"/api/check", `{"exercise":{"name":"mprotect"}}`, `"exercise": expected a string like "mprotect", not an object`},
		{"/api/steps", `[1, 2]`, `the request: expected a JSON object {...}, not an array`},
	} {
		code, resp := post(t, h, tc.path, tc.body)
		assert.Equal(t, http.StatusBadRequest, code, tc.body)
		assert.Equal(t, tc.want, resp["error"], "%s %s", tc.path, tc.body)
	}

	// Every field of every endpoint, given a value of another type.
	goNames := regexp.MustCompile(`\b(u?int(8|16|32|64)?|float(32|64)|bool)\b|web\.|Spec\b|\[\]`)
	for path, spec := range map[string]reflect.Type{
		"/api/steps":    reflect.TypeFor[runSpec](),
		"/api/curve":    reflect.TypeFor[curveSpec](),
		"/api/mrc":      reflect.TypeFor[mrcSpec](),
		"/api/real":     reflect.TypeFor[realSpec](),
		"/api/exercise": reflect.TypeFor[exerciseSpec](),
		"/api/check":    reflect.TypeFor[checkSpec](),
	} {
		for _, f := range jsonFields(spec, nil) {
			wrong := `"x"`
			if f.kind == reflect.String {
				wrong = `1`
			}
			body := wrong
			for i := len(f.keys) - 1; i >= 0; i-- {
				body = fmt.Sprintf(`{%q: %s}`, f.keys[i], body)
			}
			code, resp := post(t, h, path, body)
			assert.Equal(t, http.StatusBadRequest, code, "%s %s", path, body)
			msg, _ := resp["error"].(string)
			assert.True(t, strings.HasPrefix(msg, `"`+strings.Join(f.keys, ".")+`": expected `), "%s %s: %s", path, body, msg)
			assert.NotRegexp(t, goNames, msg, "%s %s", path, body)
		}
	}
}

// jsonField is a field of a request: its JSON keys from the root, and its
// kind.
type jsonField struct {
	keys []string
	kind reflect.Kind
}

// jsonFields lists the fields of a request type, embedded structs'
// fields as their own and nested structs' fields too.
func jsonFields(t reflect.Type, prefix []string) []jsonField {
	var out []jsonField
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			out = append(out, jsonFields(f.Type, prefix)...)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		keys := append(slices.Clone(prefix), name)
		out = append(out, jsonField{keys, f.Type.Kind()})
		if f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type, keys)...)
		}
	}
	return out
}

// fakeChecker passes every program.
type fakeChecker struct{}

func (fakeChecker) Check(ctx context.Context, exercise string, source []byte) (string, error) {
	return "ok", nil
}

func TestBadRequestsOfHTTP(t *testing.T) {
	h := New(nil)
	for _, tc := range []struct {
		name, method, path, ctype string
		code                      int
	}{
		{"GET of a POST endpoint", "GET", "/api/steps", "", 405},
		{"POST of the page", "POST", "/", "application/json", 405},
		{"a form body", "POST", "/api/steps", "application/x-www-form-urlencoded", 415},
		{"a broken content type", "POST", "/api/steps", "a/b; c", 415},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader("{}"))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.code, rec.Code)
			var m errorBody
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
			assert.NotEmpty(t, m.Error)
		})
	}
}

func TestUploadErrorsNameTheFile(t *testing.T) {
	h := New(nil)
	code, resp := upload(t, h, "/api/steps", `{"trace":{"format":"pages"},"policies":["fifo"],"frames":3}`, "../../etc/hw.pages", []byte("1 2\n3 zz\n"))
	assert.Equal(t, 400, code)
	assert.Equal(t, `hw.pages: line 2: "zz": expected a page number (decimal or 0x hex), optionally followed by r or w`, resp["error"], "the name's last element only")

	code, resp = upload(t, h, "/api/steps", `{"trace":{},"policies":["fifo"],"frames":3}`, "t.oracle", bytes.Repeat([]byte{1}, 30))
	assert.Equal(t, 400, code)
	assert.Contains(t, resp["error"], "t.oracle")

	code, resp = upload(t, h, "/api/steps", `{"trace":{},"policies":["fifo"],"frames":3}`, "b.pages", []byte("1,2,3,4,1,2,5,1,2,3,4,5"))
	require.Equal(t, 200, code, resp)
	assert.Equal(t, 9.0, runOf(t, resp, 0)["totals"].(map[string]any)["faults"])
}

// TestBusy: with every run slot taken, a request is refused at once with
// 503 and Retry-After; with the real-memory slot taken, a real run is.
func TestBusy(t *testing.T) {
	s := New(&Options{Limits: Limits{MaxRuns: 1}})
	s.runs <- struct{}{}
	req := httptest.NewRequest("POST", "/api/steps", strings.NewReader(`{"trace":{"text":"1"},"policies":["fifo"],"frames":1}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Contains(t, rec.Body.String(), "1 runs are under way")
	<-s.runs

	s.real <- struct{}{}
	code, resp := post(t, s, "/api/real", `{"trace":{"text":"1"},"policies":["fifo"],"frames":1}`)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, resp["error"], "runs one at a time")
	<-s.real
	code, _ = post(t, s, "/api/real", `{"trace":{"text":"1"},"policies":["fifo"],"frames":1}`)
	assert.Equal(t, http.StatusOK, code, "free again")
}

// firstRead is a request body that closes read when it is first read.
type firstRead struct {
	io.ReadCloser
	once *sync.Once
	read chan struct{}
}

func (f firstRead) Read(p []byte) (int, error) {
	f.once.Do(func() { close(f.read) })
	return f.ReadCloser.Read(p)
}

// TestSlowBodiesHoldNoRunSlot: clients that send their headers and then
// their body slowly (more of them than there are run slots) do not keep
// anyone else from running: a slot is taken only once a body is read, and
// a slow body is bounded by the server's ReadTimeout, not by the slots.
func TestSlowBodiesHoldNoRunSlot(t *testing.T) {
	const slots, slow = 2, 5
	s := New(&Options{Limits: Limits{MaxRuns: slots}})
	// reading gets, for each slow request, a channel closed once its
	// handler has started to read the body, or has answered without.
	reading := make(chan chan struct{}, slow)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Slow") == "" {
			s.ServeHTTP(w, r)
			return
		}
		once, read := new(sync.Once), make(chan struct{})
		r.Body = firstRead{r.Body, once, read}
		reading <- read
		s.ServeHTTP(w, r)
		once.Do(func() { close(read) })
	}))
	t.Cleanup(srv.Close)
	body := bodyFor("/api/steps")
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range slow {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		conns = append(conns, c)
		require.NoError(t, c.SetDeadline(time.Now().Add(time.Minute)))
		_, err = fmt.Fprintf(c, "POST /api/steps HTTP/1.1\r\nHost: vmsim\r\nX-Slow: 1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:1])
		require.NoError(t, err)
	}
	// Every slow request is in its handler, reading its body (the one
	// byte sent, then waiting for the rest).
	for range slow {
		select {
		case read := <-reading:
			select {
			case <-read:
			case <-time.After(10 * time.Second):
				t.Fatal("a slow request's handler neither read its body nor answered")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a slow request never reached the handler")
		}
	}
	for _, path := range []string{"/api/steps", "/api/curve", "/api/real"} {
		b := bodyFor(path)
		if path == "/api/real" {
			b = `{"trace":{"text":"1 2 1"},"policies":["fifo"],"frames":1}`
		}
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(b))
		require.NoError(t, err)
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s beside %d slow clients: %s", path, slow, msg)
	}
	assert.Zero(t, len(s.runs), "no slot held by a slow client")

	// A slow client that finishes is served as any other.
	_, err := io.WriteString(conns[0], body[1:])
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(conns[0]), nil)
	require.NoError(t, err)
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", msg)
}

// TestDeadline: a run past its deadline stops and says why.
func TestDeadline(t *testing.T) {
	s := New(nil)
	s.timeout = -time.Second // already past
	for _, path := range []string{"/api/steps", "/api/curve", "/api/mrc"} {
		code, resp := post(t, s, path, bodyFor(path))
		assert.Equal(t, http.StatusServiceUnavailable, code, path)
		assert.Contains(t, resp["error"], "the run took longer than 20s, this server's limit", path)
	}
}

func bodyFor(path string) string {
	switch path {
	case "/api/curve":
		return `{"trace":{"builtin":"textbook"},"policies":["fifo"],"from":1,"to":3}`
	case "/api/mrc":
		return `{"trace":{"builtin":"textbook"}}`
	}
	return `{"trace":{"builtin":"textbook"},"policies":["fifo"],"frames":3}`
}

// TestConcurrentRequests: runs at once (under -race) agree with one run
// alone, and never more than MaxRuns run.
func TestConcurrentRequests(t *testing.T) {
	s := New(&Options{Limits: Limits{MaxRuns: 3}})
	srv := httptest.NewServer(s)
	defer srv.Close()
	var wg sync.WaitGroup
	codes := make([]int, 12)
	faults := make([]float64, 12)
	for i := range codes {
		wg.Go(func() {
			resp, err := http.Post(srv.URL+"/api/steps", "application/json", strings.NewReader(`{"trace":{"builtin":"zipf","n":2000,"distinct":50,"seed":3},"policies":["lru","arc"],"frames":8}`))
			if err != nil {
				return
			}
			defer resp.Body.Close()
			codes[i] = resp.StatusCode
			var m map[string]any
			b, _ := io.ReadAll(resp.Body)
			if json.Unmarshal(b, &m) == nil && resp.StatusCode == 200 {
				faults[i] = m["runs"].([]any)[0].(map[string]any)["totals"].(map[string]any)["faults"].(float64)
			}
		})
	}
	wg.Wait()
	ok := 0
	for i, c := range codes {
		require.Contains(t, []int{200, 503}, c)
		if c == 200 {
			ok++
			assert.Equal(t, faults[firstOK(codes)], faults[i])
		}
	}
	assert.Positive(t, ok)
	assert.Empty(t, s.runs, "every slot given back")
}

func firstOK(codes []int) int {
	for i, c := range codes {
		if c == 200 {
			return i
		}
	}
	return 0
}

func TestUploadName(t *testing.T) {
	for in, want := range map[string]string{
		"trace.pages":            "trace.pages",
		"../../etc/passwd":       "passwd",
		`C:\Users\x\t.rw`:        "t.rw",
		"":                       "upload",
		"a\x00b\nc":              "abc",
		strings.Repeat("é", 100): strings.Repeat("é", 64),
		"dir/":                   "upload",
	} {
		assert.Equal(t, want, uploadName(in), "%q", in)
	}
}

// TestContextCancelStopsARun: a request whose client went away stops.
func TestContextCancelStopsARun(t *testing.T) {
	s := New(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest("POST", "/api/steps", strings.NewReader(bodyFor("/api/steps"))).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	assert.NotEqual(t, http.StatusOK, rec.Code)
}
