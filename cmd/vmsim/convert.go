package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"vmsim/traces"
	"vmsim/vm/arch"
)

func newConvert() *cobra.Command {
	var from, format, to string
	var pageSize uint64
	var noInstr bool
	cmd := &cobra.Command{
		Use:   "convert IN OUT",
		Short: "Convert a trace from one format to another",
		Long: `convert reads the trace IN and writes it to OUT in the format --to. "-" is
standard input or output. The input format is detected unless --from says it
(gzip and zstd input is decompressed either way). OUT is written under a
temporary name and renamed once complete, so a failed conversion leaves no
partial file, and compressed if its name ends in .gz (gzip) or .zst (zstd).

Formats read: ` + strings.Join(traces.Formats(), ", ") + `.
Formats written: ` + strings.Join(traces.WriterFormats(), ", ") + `.
oracle has no write bit: converting to it turns every access into a read;
lackey instruction fetches are reads (--no-instr drops them).

--page-size is the page size in bytes that rw and lackey addresses are
divided by when read and that rw addresses are multiplied by when written;
oracle records it as each object's size and vmt in its header. By default it
is the vmt input's header page size, else 4096.`,
		Example: `  vmsim convert trace.pages trace.vmt --to vmt
  vmsim convert prog.lackey prog.vmt.zst --to vmt --no-instr
  vmsim convert trace.oracleGeneral.zst - --to pages | head
  vmsim gen zipf --n 100 | vmsim convert - out.rw --to rw --page-size 8192`,
		Args: exactArgs(2, "IN", "OUT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if from != "" && format != "" && from != format {
				return usageErrorf(cmd, "--from %s and --format %s disagree: they name the same input format", from, format)
			}
			if from == "" {
				from = format
			}
			if from == "" {
				from = traces.FormatAuto
			}
			if from != traces.FormatAuto && !contains(traces.Formats(), from) {
				return usageErrorf(cmd, "--from %s: unknown trace format (want auto, %s)", from, strings.Join(traces.Formats(), ", "))
			}
			if to == "" {
				return usageErrorf(cmd, "--to is needed: the output format (%s)", strings.Join(traces.WriterFormats(), ", "))
			}
			if !contains(traces.WriterFormats(), to) {
				return usageErrorf(cmd, "--to %s: cannot write that format (want %s)", to, strings.Join(traces.WriterFormats(), ", "))
			}
			ps := arch.PageSize(pageSize)
			if cmd.Flags().Changed("page-size") {
				if err := checkPageSize(ps); err != nil {
					return usageErrorf(cmd, "--page-size %d: %v", pageSize, err)
				}
			}
			in, out := args[0], args[1]
			r, closer, err := openInput(cmd, in, &traces.OpenOptions{Format: from, PageSize: ps, NoInstr: noInstr})
			if err != nil {
				return fmt.Errorf("convert: %w", err)
			}
			defer closer.Close()
			wopts := &traces.WriterOptions{PageSize: ps}
			if v, ok := r.(*traces.VMTReader); ok {
				// A vmt input says its page size and, often, its length.
				h, err := v.Header()
				if err != nil {
					return fmt.Errorf("convert: %w", err)
				}
				if ps == 0 {
					wopts.PageSize = h.PageSize
				}
				wopts.Count = h.Count
			}
			if err := writeTrace(cmd.Context(), cmd.OutOrStdout(), r, out, to, wopts); err != nil {
				return fmt.Errorf("convert: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "output `FORMAT`: "+strings.Join(traces.WriterFormats(), ", "))
	f.StringVar(&from, "from", "", "input `FORMAT`: auto, "+strings.Join(traces.Formats(), ", ")+" (default auto)")
	f.StringVar(&format, "format", "", "input `FORMAT`, the same as --from")
	f.Uint64Var(&pageSize, "page-size", 0, "page size in `BYTES`, a power of two (default: a vmt input's, else 4096)")
	f.BoolVar(&noInstr, "no-instr", false, "drop the instruction fetches of a lackey trace")
	return cmd
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkPageSize checks a page size given on the command line.
func checkPageSize(ps arch.PageSize) error {
	if !ps.Valid() || ps > traces.MaxPageSize {
		return traces.ErrPageSize
	}
	return nil
}

// openInput opens the trace at path for convert; "-" is the command's
// standard input. Reading stops once the command's context is done.
func openInput(cmd *cobra.Command, path string, opts *traces.OpenOptions) (traces.Reader, io.Closer, error) {
	t, err := openTrace(cmd.Context(), path, traceFlags{format: opts.Format, pageSize: uint64(opts.PageSize), noInstr: opts.NoInstr}, cmd.InOrStdin())
	if err != nil {
		return nil, nil, err
	}
	return t.reader, closerFunc(t.close), nil
}

// closerFunc adapts a function to io.Closer.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// writeTrace copies r to a new trace at path ("-" is stdout) in format,
// compressed if the name ends in .gz or .zst. A file is written under a
// temporary name and renamed once complete.
func writeTrace(ctx context.Context, stdout io.Writer, r traces.Reader, path, format string, opts *traces.WriterOptions) error {
	if path == "-" {
		return copyTrace(ctx, r, stdout, path, format, opts)
	}
	f, err := traces.CreateAtomic(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := copyTrace(ctx, r, f, path, format, opts); err != nil {
		return err
	}
	return f.Commit()
}

func copyTrace(ctx context.Context, r traces.Reader, dst io.Writer, path, format string, opts *traces.WriterOptions) error {
	w, err := traces.NewFileWriter(path, format, dst, opts)
	if err != nil {
		return err
	}
	buf := make([]traces.Access, 8192)
	for batch := 0; ; batch++ {
		n, err := r.Read(buf)
		if n > 0 {
			if err := w.Write(buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if batch%64 == 0 {
			if err := ctxErr(ctx); err != nil {
				return err
			}
		}
	}
	return w.Close()
}
