package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"vmsim/cmd/vmsim/web"
	"vmsim/pager/live"
	"vmsim/vm/exercise/check"
	"vmsim/vm/probe"
)

func newServe() *cobra.Command {
	var addr string
	var simOnly bool
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT]",
		Short: "The classroom: a local web page for step playback, quizzes, curves and real runs",
		Long: `serve starts a web server and prints its address: open it in a browser. The page
plays a reference string step by step through several policies side by side
(frames in fixed slots as the textbook draws them, each policy's own state,
running totals), quizzes a student on it (hit or fault, and which page is
evicted; a link reproduces the quiz), draws faults against frames (Belady's
anomaly) and the exact LRU miss-ratio curve of an uploaded trace, replays the
string on real memory beside the simulation, and runs the mmap exercises.

Everything the page shows is computed by the pager, the engine of replay and
step, through a small JSON API (documented in docs/classroom.md). The page
and its assets are inside the binary: it works offline and loads nothing
from other hosts.

The server listens on 127.0.0.1 (this machine only) unless --addr says
otherwise; --addr :8080 serves a lab's network, with a warning. Requests are
bounded in size, length, frames, policies, run time and runs at once. The
kernel's own fault counts need root (the eBPF probe); without it the page
says so.`,
		Example: `  vmsim serve                     # then open http://127.0.0.1:8080/
  vmsim serve --addr 127.0.0.1:9000
  vmsim serve --addr :8080        # every interface: a lab's machines can reach it`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runServe(cmd, addr, simOnly) },
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "`HOST:PORT` to listen on (an empty host means every interface)")
	cmd.Flags().BoolVar(&simOnly, "sim-only", false, "serve simulations only: no real-memory runs or exercises")
	return cmd
}

func runServe(cmd *cobra.Command, addr string, simOnly bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErrorf(cmd, "--addr %q: want HOST:PORT, like 127.0.0.1:8080 or :8080", addr)
	}
	opts := &web.Options{Spawn: spawnSelf, NoReal: simOnly}
	if !simOnly {
		opts.Check = serveChecker{}
		k, note := openServeKernel()
		if k != nil {
			defer k.Close()
			opts.Kernel = k
		}
		opts.KernelNote = note
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && !ip.IsLoopback() || ip == nil && host != "localhost" {
		fmt.Fprintf(cmd.ErrOrStderr(), "vmsim: serve: %s is reachable from other machines, not only this one: anyone on the network can use the page\n", ln.Addr())
	}
	srv := web.NewServer(addr, web.New(opts))
	fmt.Fprintf(cmd.OutOrStdout(), "vmsim serve: http://%s/ (Ctrl-C to stop)\n", displayAddr(ln.Addr()))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-cmd.Context().Done():
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	}
}

// displayAddr is the address to open in a browser: a wildcard listener is
// reached at 127.0.0.1.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
}

// serveChecker grades an uploaded C program as vmsim check does (compiled
// into a temporary directory, run under ptrace with the grader's limits and
// dropped privileges), and returns the report vmsim check prints.
type serveChecker struct{}

// Check implements web.Checker.
func (serveChecker) Check(ctx context.Context, exercise string, source []byte) (string, error) {
	ex, err := check.Lookup(exercise)
	if err != nil {
		return "", fmt.Errorf("%w: %w", web.ErrBadInput, err)
	}
	dir, err := os.MkdirTemp("", "vmsim-serve-check-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "submission.c")
	if err := os.WriteFile(src, source, 0o644); err != nil {
		return "", err
	}
	s := &submission{name: "submission.c", path: src}
	var compiler bytes.Buffer
	s.report = gradeOne(ctx, ex, s, filepath.Join(dir, "build"), &check.Options{}, false, func(b []byte) { compiler.Write(b) })
	var out bytes.Buffer
	out.Write(compiler.Bytes())
	if err := writeReport(&out, s, true, false); err != nil {
		return "", err
	}
	return out.String(), nil
}

// serveKernel counts the kernel's faults beside the page's real runs, with
// the eBPF probe (vm/probe): only as root.
type serveKernel struct{ meter *kernelMeter }

// openServeKernel opens the probe, or says in plain words why not.
func openServeKernel() (*serveKernel, string) {
	m, err := probe.OpenMeter(nil)
	if err != nil {
		return nil, "The kernel's own page-fault counts are not available here: " + oneLine(err)
	}
	if m.Source() != probe.SourceProbe {
		m.Close()
		if errors.Is(m.Fallback(), probe.ErrPermission) {
			return nil, "The kernel's own page-fault counts need root (they come from an eBPF probe), and this server runs as an ordinary user. Start vmsim serve as root to see them."
		}
		return nil, "The kernel's own page-fault counts are not available here: " + oneLine(m.Fallback())
	}
	return &serveKernel{meter: m}, ""
}

func (k *serveKernel) Close() error { return k.meter.Close() }

// Measure implements web.KernelMeter.
func (k *serveKernel) Measure(lp *live.Pager, fn func() error) (web.KernelCounts, error) {
	ms, err := k.meter.Measure([]probe.Range{{Label: programView, Range: lp.Range()}, {Label: secondView, Range: lp.SecondView()}}, fn)
	if err != nil {
		return web.KernelCounts{}, err
	}
	kf := newKernelFaults(ms, programView)
	return web.KernelCounts{Source: kf.Source, Faults: kf.Program.NotPresent + kf.Program.Protection, NotPresent: kf.Program.NotPresent, Protection: kf.Program.Protection}, nil
}
