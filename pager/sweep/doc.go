// Package sweep cuts a study of replacement policies over many traces into
// jobs that any number of machines can share: one job is one trace replayed
// through one policy with one frame count, in simulation. It gives each job
// an id that every machine computes alike, partitions the jobs into shards,
// runs a shard through [pager.Stream], writes each finished job as one line
// of JSON (a [Record]), resumes a shard from the lines it already wrote, and
// merges the shards' files back into one, checking that every job is there
// exactly once.
//
// The package knows no scheduler: a Slurm job array, a Kubernetes Indexed
// Job or a shell loop runs shard I of N as one process each, and the only
// thing the processes share is the files they write.
//
// # Job ids
//
// A job is a trace's content (the SHA-256 of its file's bytes, as stored:
// compressed if it is compressed), the options that decide how the trace is
// read ([Decoding]) and a configuration ([pager.Config]: policy, frames and
// the policies' options). Its id ([Job.ID]) is a hash of those and nothing
// else: not the file's name, not the order of the arguments, not the shard.
// So a trace that is renamed or moved keeps its jobs, two files with the
// same bytes are one trace, and a file whose bytes changed is new work: a
// result computed from other bytes is never taken for it.
//
// # Shards
//
// [Spec.Partition] cuts the sweep into units, each one pass over one trace
// for some of its configurations, and deals them to N shards. It reads
// only the traces' names and sizes (not their bytes), so every process of
// an array computes the same partition cheaply, and it balances the shards'
// estimated work (bytes × configurations), largest unit first onto the
// least loaded shard. A trace stays whole in one shard (one decoding pass
// for all its configurations) unless it alone is more than a shard's share
// of the work: then its configurations are split into as many parts as it
// has shares, and parts that land in the same shard are joined again.
// Every job falls in exactly one shard, whatever N.
//
// # Records and files
//
// A shard writes each unit's records as whole lines in one write, then
// syncs the file, so that a process stopped at any moment leaves whole
// lines and at most one incomplete last line. [Read] reads such a file: it
// validates every line ([ParseRecord]: the fields, the counters' sums, the
// id recomputed from the fields) and reports an incomplete last line
// apart, which [OpenLog] cuts off before appending.
//
// # Errors
//
// A damaged line is a [*ParseError] (file, line, what) wrapping
// [ErrBadRecord]; a bad manifest line is one too. [Merge] does not stop at
// the first problem: its [Report] lists every class of problem.
package sweep
