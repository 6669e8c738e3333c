package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

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
