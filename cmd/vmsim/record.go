package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"vmsim/traces"
	"vmsim/vm/arch"
)

type recordFlags struct {
	out      string
	noInstr  bool
	pageSize uint64
	text     string
}

func newRecord() *cobra.Command {
	var f recordFlags
	cmd := &cobra.Command{
		Use:   "record [flags] -- PROGRAM [ARGS...]",
		Short: "Record the memory accesses of a program as a trace, under valgrind",
		Long: `record runs PROGRAM under valgrind's lackey tool (valgrind --tool=lackey
--trace-mem=yes) and streams its records straight into vmsim's binary trace
format, vmt, compressed if the output's name ends in .zst or .gz: no text file
of lackey's output, which takes about 15 bytes an access (a sort of 10,000
lines makes 40 M lines, 589 MB), is written. The trace holds the program's
instruction fetches (reads), loads (reads), stores (writes) and modifies (a
read, then a write), one access per page touched, as "--format lackey" reads
them; --no-instr drops the instruction fetches.

PROGRAM's standard input, output and error are vmsim's. The output is
written under a temporary name and renamed once complete. If PROGRAM exits
with a failure, the trace of what it did is kept and record fails with its
status. Under valgrind a program runs about 50 to 100 times slower; a
progress line counts the accesses recorded when stderr is a terminal.

valgrind must be installed (Debian: apt-get install valgrind).`,
		Example: `  vmsim record -o sort.vmt.zst -- sort words.txt
  vmsim record --no-instr -o ls.vmt.zst -- ls -l /
  vmsim replay -p lru,opt -f 8:256:8 sort.vmt.zst`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf(cmd, "needs the PROGRAM to run (after --)")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runRecord(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false) // flags after PROGRAM are PROGRAM's
	fl.StringVarP(&f.out, "out", "o", "", "output `FILE` (default: PROGRAM's name plus .vmt.zst)")
	fl.BoolVar(&f.noInstr, "no-instr", false, "drop instruction fetches: data accesses only")
	fl.Uint64Var(&f.pageSize, "page-size", uint64(traces.DefaultPageSize), "page size in `BYTES` that addresses are divided by")
	fl.StringVar(&f.text, "keep-text", "", "also write lackey's own text output to `FILE` (large)")
	return cmd
}

func runRecord(cmd *cobra.Command, f recordFlags, args []string) error {
	ps := arch.PageSize(f.pageSize)
	if err := checkPageSize(ps); err != nil {
		return usageErrorf(cmd, "--page-size %d: %v", f.pageSize, err)
	}
	if f.out == "-" {
		return usageErrorf(cmd, "-o -: PROGRAM's own output goes to standard output; name a file for the trace")
	}
	if f.out == "" {
		f.out = filepath.Base(args[0]) + ".vmt.zst"
	}
	if f.text != "" && f.text == f.out {
		return usageErrorf(cmd, "--keep-text and -o name the same file %s", f.out)
	}
	valgrind, err := exec.LookPath("valgrind")
	if err != nil {
		return fmt.Errorf("record: valgrind is needed to trace a program (Debian: apt-get install valgrind): %w", err)
	}
	prog, err := exec.LookPath(args[0])
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()

	out, err := traces.CreateAtomic(f.out)
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	defer out.Abort()
	var text *traces.AtomicFile
	if f.text != "" {
		if text, err = traces.CreateAtomic(f.text); err != nil {
			return fmt.Errorf("record: %w", err)
		}
		defer text.Abort()
	}

	// Lackey writes to valgrind's log, which goes to descriptor 3 of the
	// child: a pipe that nothing else writes.
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}
	defer pr.Close()
	vg := exec.CommandContext(ctx, valgrind, append([]string{"--tool=lackey", "--trace-mem=yes", "--log-fd=3", prog}, args[1:]...)...)
	vg.Stdin, vg.Stdout, vg.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
	vg.ExtraFiles = []*os.File{pw}
	err = vg.Start()
	pw.Close()
	if err != nil {
		return fmt.Errorf("record: %w", err)
	}

	var log io.Reader = pr
	if text != nil {
		log = io.TeeReader(pr, text)
	}
	r, err := traces.NewLackeyReader(log, "lackey output of "+args[0], &traces.LackeyOptions{PageSize: ps, NoInstr: f.noInstr})
	if err != nil {
		cancel()
		vg.Wait()
		return fmt.Errorf("record: %w", err)
	}
	bar := newProgress(cmd.ErrOrStderr(), 0, "record "+args[0])
	n, cerr := recordTrace(ctx, r, out, f.out, ps, bar)
	bar.done()
	if cerr != nil {
		cancel() // stop valgrind: the trace cannot be written
	}
	werr := vg.Wait()
	switch {
	case cerr != nil:
		return fmt.Errorf("record: %w", cerr)
	case ctx.Err() != nil:
		return fmt.Errorf("record: %w", ctx.Err())
	}
	var exit *exec.ExitError
	if werr != nil && !errors.As(werr, &exit) {
		return fmt.Errorf("record: valgrind: %w", werr)
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("record: %w", err)
	}
	if text != nil {
		if err := text.Commit(); err != nil {
			return fmt.Errorf("record: %w", err)
		}
	}
	if exit != nil {
		return fmt.Errorf("record: %s exited with status %d under valgrind; the trace of its %d accesses is in %s", args[0], exit.ExitCode(), n, f.out)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "vmsim: record: %d accesses of %s in %s\n", n, args[0], f.out)
	return nil
}

// recordTrace copies the lackey reader's accesses into a vmt trace at path
// (compressed by its name), counting them on bar, and returns how many.
func recordTrace(ctx context.Context, r traces.Reader, dst io.Writer, path string, ps arch.PageSize, bar *progress) (uint64, error) {
	w, err := traces.NewFileWriter(path, traces.FormatVMT, dst, &traces.WriterOptions{PageSize: ps})
	if err != nil {
		return 0, err
	}
	buf := make([]traces.Access, 1<<14)
	var n uint64
	for {
		k, err := r.Read(buf)
		if k > 0 {
			if err := w.Write(buf[:k]); err != nil {
				return n, err
			}
			n += uint64(k)
			bar.set(int64(n))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		if err := ctxErr(ctx); err != nil {
			return n, err
		}
	}
	return n, w.Close()
}
