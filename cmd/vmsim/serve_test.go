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
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pr, pw := io.Pipe()
			var stderr lockedBuffer
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"serve", "--addr", tc.addr, "--sim-only"}, pw, &stderr)
				pw.Close()
			}()
			line, err := bufio.NewReader(pr).ReadString('\n')
			require.NoError(t, err, stderr.String())
			url, ok := strings.CutPrefix(strings.TrimSuffix(line, " (Ctrl-C to stop)\n"), "vmsim serve: ")
			require.True(t, ok, line)
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
			cancel()
			assert.NoError(t, <-done, "Ctrl-C stops the server cleanly")
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
