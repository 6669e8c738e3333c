package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"vmsim/cmd/vmsim/web"
	"vmsim/vm/vmtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is a buffer that two goroutines may use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe starts vmsim serve with args and returns the address it
// prints, its stderr, and stop, which stops it as Ctrl-C would and returns
// what the command did.
func startServe(t *testing.T, args ...string) (url string, stderr *lockedBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pr, pw := io.Pipe()
	stderr = new(lockedBuffer)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve"}, args...), pw, stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, stderr.String())
	url, ok := strings.CutPrefix(strings.TrimSuffix(line, " (Ctrl-C to stop)\n"), "vmsim serve: ")
	require.True(t, ok, line)
	return url, stderr, func() error {
		cancel()
		return <-done
	}
}

// TestServe starts vmsim serve, reads the address it prints, asks the
// server for its info and the page, and stops it as Ctrl-C would.
func TestServe(t *testing.T) {
	for _, tc := range []struct {
		name, addr string
		warns      bool
	}{
		{"loopback, no warning", "127.0.0.1:0", false},
		{"every interface, with a warning", ":0", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, stderr, stop := startServe(t, "--addr", tc.addr, "--sim-only")
			assert.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)

			resp, err := http.Get(url + "api/info")
			require.NoError(t, err)
			var info struct {
				Real struct {
					Available bool   `json:"available"`
					Note      string `json:"note"`
				} `json:"real"`
			}
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
			resp.Body.Close()
			assert.False(t, info.Real.Available, "--sim-only")
			assert.Equal(t, "this server runs simulations only", info.Real.Note)

			resp, err = http.Get(url)
			require.NoError(t, err)
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Contains(t, string(page), "<title>vmsim classroom</title>")

			if tc.warns {
				assert.Contains(t, stderr.String(), "is reachable from other machines, not only this one")
			} else {
				assert.Empty(t, stderr.String())
			}
			assert.NoError(t, stop(), "Ctrl-C stops the server cleanly")
		})
	}
}

// TestServeKernelCounts is invariant I5 through the classroom: vmsim serve
// started as root counts the kernel's own faults beside each real run with
// the eBPF probe, and they are explained by the simulated counts as in
// TestReplayKernelCounts: two kernel not-present faults per fault on the
// program's view (the one that became the signal, and the retry that maps
// the page; one with userfaultfd, whose fill maps it), one kernel
// protection fault per protection fault, and nothing else.
func TestServeKernelCounts(t *testing.T) {
	requireProbe(t)
	url, stderr, stop := startServe(t, "--addr", "127.0.0.1:0")
	defer func() { assert.NoError(t, stop()) }()

	resp, err := http.Get(url + "api/info")
	require.NoError(t, err)
	var info struct {
		Kernel struct {
			Available bool   `json:"available"`
			Note      string `json:"note"`
		} `json:"kernel"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&info))
	resp.Body.Close()
	require.True(t, info.Kernel.Available, "as root the server loads the probe: %q; stderr %q", info.Kernel.Note, stderr.String())
	assert.Empty(t, info.Kernel.Note)

	const trace = "1 2 3 4 1 2 5 1 2 3 4 5 5w 4w 3 9w 9 1w"
	for _, mech := range []string{"mprotect", "remap", "uffd"} {
		t.Run(mech, func(t *testing.T) {
			perFault := uint64(2)
			if mech == "uffd" {
				perFault = 1
			}
			body := `{"trace":{"text":"` + trace + `"},"policies":["fifo","lru","opt"],"frames":3,"mechanism":"` + mech + `"}`
			resp, err := http.Post(url+"api/real", "application/json", strings.NewReader(body))
			require.NoError(t, err)
			defer resp.Body.Close()
			type counts struct {
				Faults           uint64 `json:"faults"`
				Writebacks       uint64 `json:"writebacks"`
				ProtectionFaults uint64 `json:"protection_faults"`
			}
			var out struct {
				Mechanism  string `json:"mechanism"`
				Kernel     bool   `json:"kernel"`
				KernelNote string `json:"kernel_note"`
				Runs       []struct {
					Policy     string            `json:"policy"`
					Sim        counts            `json:"sim"`
					Real       counts            `json:"real"`
					UserFaults uint64            `json:"user_faults"`
					Agree      bool              `json:"agree"`
					Kernel     *web.KernelCounts `json:"kernel"`
				} `json:"runs"`
			}
			b, _ := io.ReadAll(resp.Body)
			require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
			require.NoError(t, json.Unmarshal(b, &out), "%s", b)
			assert.Equal(t, mech, out.Mechanism)
			assert.True(t, out.Kernel)
			assert.Empty(t, out.KernelNote)
			require.Len(t, out.Runs, 3)
			for i, want := range []struct {
				policy                   string
				faults, protection, back uint64
			}{
				// 3 frames: after the 12 reads, 3, 4 and 5 are resident
				// for each policy, so 5w and 4w write clean resident
				// pages (protection faults) and 9w and 1w fault.
				{"fifo", 11, 2, 1},
				{"lru", 12, 2, 2},
				{"opt", 9, 2, 2},
			} {
				r := out.Runs[i]
				assert.Equal(t, want.policy, r.Policy)
				assert.Equal(t, counts{want.faults, want.back, want.protection}, r.Sim, r.Policy)
				assert.True(t, r.Agree, r.Policy)
				assert.Equal(t, r.Sim, r.Real, r.Policy)
				assert.Equal(t, r.Sim.Faults+r.Sim.ProtectionFaults, r.UserFaults, r.Policy)
				require.NotNil(t, r.Kernel, "%s: the kernel's counts", r.Policy)
				k := *r.Kernel
				assert.Equal(t, "ebpf", k.Source, r.Policy)
				assert.Positive(t, k.Faults, r.Policy)
				assert.Equal(t, perFault*r.Sim.Faults, k.NotPresent, "%s: not-present kernel faults per fault", r.Policy)
				assert.Equal(t, r.Sim.ProtectionFaults, k.Protection, "%s: a kernel protection fault per protection fault", r.Policy)
				assert.Equal(t, perFault*want.faults+want.protection, k.Faults, r.Policy)
			}
		})
	}
}

func TestServeErrors(t *testing.T) {
	_, errOut, code := vmsim(t, "serve", "--addr", "8080")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--addr "8080": want HOST:PORT, like 127.0.0.1:8080 or :8080`)

	_, errOut, code = vmsim(t, "serve", "--addr", "127.0.0.1:99999")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "vmsim: serve: listen tcp")
}

// TestServeGrades: the page's check endpoint grades an uploaded C program
// with vmsim check's grader: the reference solution passes, a wrong one
// fails on its check, an unknown exercise is the request's fault.
func TestServeGrades(t *testing.T) {
	vmtest.RequireTool(t, "cc", "gcc")
	srv := httptest.NewServer(web.New(&web.Options{Check: serveChecker{}}))
	defer srv.Close()
	post := func(exercise, file string) (int, map[string]string) {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		require.NoError(t, mw.WriteField("request", `{"exercise": "`+exercise+`"}`))
		fw, err := mw.CreateFormFile("trace", filepath.Base(file))
		require.NoError(t, err)
		fw.Write(src)
		require.NoError(t, mw.Close())
		resp, err := http.Post(srv.URL+"/api/check", mw.FormDataContentType(), &body)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]string
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}
	code, out := post("mprotect", "../../docs/c/mprotect.c")
	require.Equal(t, http.StatusOK, code, out)
	assert.Contains(t, out["report"], "submission.c: vmsim check mprotect")
	assert.NotContains(t, out["report"], "FAILED")

	code, out = post("mprotect", "../../vm/exercise/check/testdata/wrong/mprotect/no-mprotect.c")
	require.Equal(t, http.StatusOK, code, out)
	assert.Contains(t, out["report"], "FAILED   the handler mprotects the page")

	code, out = post("nope", "../../docs/c/mprotect.c")
	assert.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, out["error"], `"nope"`)
}
