package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"vmsim/vm/arch"
	"vmsim/vm/mmapcp"
)

func newCp() *cobra.Command {
	var sizeWith, window, method string
	var sync, verbose bool
	cmd := &cobra.Command{
		Use:   "cp SRC DST",
		Short: "Copy a file with mmap, as the course's exercise does, with the edges handled",
		Long: `cp maps SRC PROT_READ, MAP_PRIVATE; creates DST, gives it SRC's size and maps it
PROT_READ|PROT_WRITE, MAP_SHARED; copies; msyncs; unmaps; closes.

DST is opened O_RDWR, not O_WRONLY: a MAP_SHARED mapping with PROT_WRITE needs
the file open for reading and writing, or mmap fails with EACCES (a mapping can
always be read). It is mapped MAP_SHARED because writes to a MAP_PRIVATE
mapping go to private copies of the pages and would never reach the file.

--size-with chooses how DST gets its size before it is mapped: ftruncate, or
lseek to size-1 and a one-byte write, as the course does. Pages of a file past
its end cannot be mapped usefully: touching them raises SIGBUS.

The edges: an empty SRC is copied without mmap (a mapping of length 0 is
invalid); a SRC whose size is not to be trusted (a file of /proc says 0 bytes,
one of /sys a page) is copied by read and write until its end; the holes of a
sparse SRC stay holes (lseek SEEK_DATA and SEEK_HOLE); a file larger than memory is copied in windows of --window bytes;
a SRC that another process truncates during the copy raises SIGBUS, which is
caught and reported, never a silent short copy; DST that is SRC under another
name (a link, another path) is refused, comparing device and inode; SRC or an
existing DST that is not a regular file is refused; a DST that is a directory
receives SRC under its own name. DST is written under a temporary name in its
directory and renamed at the end, so a failure, Ctrl-C, SIGTERM or SIGHUP
never leaves a partial DST nor the temporary file. It gets SRC's permission
bits.

--method io copies with io.Copy instead (the kernel's copy_file_range), for
comparison.`,
		Example: `  vmsim cp big.iso copy.iso
  vmsim cp -v --size-with lseek notes.txt notes.bak
  vmsim cp --window 1MiB --sync=false big.iso /tmp/`,
		Args: exactArgs(2, "SRC", "DST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := &mmapcp.Options{NoSync: !sync}
			switch sizeWith {
			case "ftruncate":
				opts.SizeWith = mmapcp.Ftruncate
			case "lseek":
				opts.SizeWith = mmapcp.Lseek
			default:
				return usageErrorf(cmd, "--size-with %q: want ftruncate or lseek", sizeWith)
			}
			switch method {
			case "mmap":
				opts.Method = mmapcp.Mmap
			case "io":
				opts.Method = mmapcp.Stream
			default:
				return usageErrorf(cmd, "--method %q: want mmap or io", method)
			}
			w, err := parseBytes(window)
			ps := int64(arch.SystemPageSize())
			if err == nil && (w <= 0 || w%ps != 0) {
				err = fmt.Errorf("must be a positive multiple of the page size (%d)", ps)
			}
			if err != nil {
				return usageErrorf(cmd, "--window %q: %v", window, err)
			}
			opts.Window = w
			out := cmd.OutOrStdout()
			if verbose {
				opts.Trace = out
			}
			st, err := mmapcp.Copy(cmd.Context(), args[0], args[1], opts)
			if err != nil {
				return fmt.Errorf("cp: %w", err)
			}
			if verbose {
				fmt.Fprintf(out, "copied %d bytes to %s (%s, %d window(s))\n", st.Bytes, st.Dest, opts.Method, st.Windows)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&sizeWith, "size-with", "ftruncate", "how DST gets its size: ftruncate, or lseek (to size-1, then write one byte)")
	f.StringVar(&window, "window", "64MiB", "bytes of each file mapped at once (`SIZE`: 4096, 1MiB, 64M, ...)")
	f.StringVar(&method, "method", "mmap", "mmap, or io (io.Copy) for comparison")
	f.BoolVar(&sync, "sync", true, "msync each window before unmapping it")
	f.BoolVarP(&verbose, "verbose", "v", false, "print each step, in the words of the C program")
	return cmd
}

// parseBytes reads a size: a number of bytes, optionally with a binary
// suffix (K, KiB, M, MiB, G, GiB; any case).
func parseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size")
	}
	if n > 0 && n > (1<<62)/mult {
		return 0, fmt.Errorf("too large")
	}
	return n * mult, nil
}
