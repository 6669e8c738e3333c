package sweep

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
)

// mergeJobs are the jobs of a small sweep: two traces, two configurations.
func mergeJobs() []Job {
	s := &Spec{
		Traces:  []Trace{{Name: "a", SHA256: hash64('a')}, {Name: "b", SHA256: hash64('b')}},
		Configs: []pager.Config{{Policy: "fifo", Frames: 3}, {Policy: "lru", Frames: 3}},
	}
	jobs, _ := s.Jobs()
	return jobs
}

func hash64(c byte) string { return string(bytes.Repeat([]byte{c}, 64)) }

// stats are counters for job i of mergeJobs, distinct per job; faults
// shifts them, for records that disagree.
func stats(i int, faults uint64) pager.Stats {
	return pager.Stats{Accesses: 100, Reads: 100, Faults: 10 + uint64(i) + faults, Hits: 90 - uint64(i) - faults}
}

// file is a results file of the records of jobs (index, extra faults).
func file(name string, jobs []Job, which ...[2]int) *File {
	f := &File{Name: name}
	for k, w := range which {
		f.Records = append(f.Records, NewRecord(jobs[w[0]], stats(w[0], uint64(w[1]))))
		f.Lines = append(f.Lines, k+1)
	}
	return f
}

func TestMerge(t *testing.T) {
	jobs := mergeJobs()
	other := Job{Trace: "c", SHA256: hash64('c'), Config: pager.Config{Policy: "fifo", Frames: 3}}
	tests := []struct {
		name  string
		files []*File
		check func(t *testing.T, r *Report)
	}{
		{"two shards make every job once, in the order of the jobs", []*File{file("s1", jobs, [2]int{3, 0}, [2]int{0, 0}), file("s0", jobs, [2]int{2, 0}, [2]int{1, 0})}, func(t *testing.T, r *Report) {
			assert.True(t, r.OK())
			require.Len(t, r.Records, 4)
			for i, rec := range r.Records {
				assert.Equal(t, jobs[i].ID(), rec.Job)
				assert.Equal(t, stats(i, 0), rec.Stats)
			}
		}},
		{"a job missing", []*File{file("s0", jobs, [2]int{0, 0}, [2]int{1, 0}, [2]int{3, 0})}, func(t *testing.T, r *Report) {
			assert.False(t, r.OK())
			assert.Equal(t, []Job{jobs[2]}, r.Missing)
			assert.Len(t, r.Records, 3)
		}},
		{"a copy with the same counts is dropped, not a problem", []*File{file("s0", jobs, [2]int{0, 0}, [2]int{1, 0}, [2]int{2, 0}, [2]int{3, 0}), file("s0 again", jobs, [2]int{1, 0})}, func(t *testing.T, r *Report) {
			assert.True(t, r.OK())
			assert.Equal(t, 1, r.Duplicates)
			assert.Len(t, r.Records, 4)
		}},
		{"records of one job that disagree", []*File{file("s0", jobs, [2]int{0, 0}, [2]int{1, 0}, [2]int{2, 0}, [2]int{3, 0}), file("s1", jobs, [2]int{2, 1})}, func(t *testing.T, r *Report) {
			assert.False(t, r.OK())
			require.Len(t, r.Conflicts, 1)
			require.Len(t, r.Conflicts[0], 2)
			assert.Equal(t, "s0:3", r.Conflicts[0][0].Where())
			assert.Equal(t, "s1:1", r.Conflicts[0][1].Where())
			assert.Zero(t, r.Duplicates)
			assert.Len(t, r.Records, 3, "no record for a job in conflict")
		}},
		{"a record of a job outside the sweep", []*File{file("s0", jobs, [2]int{0, 0}, [2]int{1, 0}, [2]int{2, 0}, [2]int{3, 0}), {Name: "x", Records: []Record{NewRecord(other, stats(0, 0))}, Lines: []int{7}}}, func(t *testing.T, r *Report) {
			assert.False(t, r.OK())
			require.Len(t, r.Unknown, 1)
			assert.Equal(t, "x:7", r.Unknown[0].Where())
		}},
		{"damaged lines are a problem, a torn last line a note", []*File{
			file("s0", jobs, [2]int{0, 0}, [2]int{1, 0}, [2]int{2, 0}, [2]int{3, 0}),
			{Name: "s1", Damaged: []*ParseError{{File: "s1", Line: 2, Err: ErrBadRecord}}, Torn: 5},
		}, func(t *testing.T, r *Report) {
			assert.False(t, r.OK())
			assert.Len(t, r.Damaged, 1)
			assert.Equal(t, []string{"s1:5"}, r.Torn)
			assert.Empty(t, r.Missing)
		}},
		{"a record naming its trace otherwise is the job's, renamed", []*File{func() *File {
			f := file("s0", jobs, [2]int{0, 0}, [2]int{1, 0}, [2]int{2, 0}, [2]int{3, 0})
			renamed := jobs[3]
			renamed.Trace = "old/b"
			f.Records[3] = NewRecord(renamed, stats(3, 0))
			return f
		}()}, func(t *testing.T, r *Report) {
			assert.True(t, r.OK())
			assert.Equal(t, "b", r.Records[3].Trace)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, Merge(jobs, tt.files)) })
	}
}
