package sweep

import "fmt"

// Located is a record and the place it was read from.
type Located struct {
	Record
	// File names the file, Line is the record's line in it.
	File string
	Line int
}

// Where returns "file:line".
func (l Located) Where() string { return fmt.Sprintf("%s:%d", l.File, l.Line) }

// Report is what [Merge] found. Records is the merged result; the other
// fields are its problems, one class each, and its notes.
type Report struct {
	// Records holds one record per job found, in the order of the jobs,
	// each naming its trace as the job does.
	Records []Record
	// Missing are the jobs that no file has a record of.
	Missing []Job
	// Unknown are the records of jobs that are not in the sweep: another
	// sweep's, or one of other options.
	Unknown []Located
	// Conflicts are the jobs whose records disagree on the counters, each
	// with every record of that job.
	Conflicts [][]Located
	// Damaged are the files' bad lines.
	Damaged []*ParseError

	// Duplicates counts the records dropped as copies of another record
	// of the same job with the same counters (a trace with the same bytes
	// as another, in another shard; a file given twice): not a problem.
	Duplicates int
	// Torn are the incomplete last lines of files ("file:line"), ignored:
	// the runs that wrote them stopped in the middle of a line.
	Torn []string
}

// OK reports whether the merge is complete and consistent: no job
// missing, no record unknown, conflicting or damaged.
func (r *Report) OK() bool {
	return len(r.Missing) == 0 && len(r.Unknown) == 0 && len(r.Conflicts) == 0 && len(r.Damaged) == 0
}

// Merge holds the records of files against the jobs of a sweep ([Spec.Jobs])
// and returns one record per job. Records are matched to jobs by id only:
// a record that names its trace otherwise (the same bytes under another
// name) is the job's, and is renamed as the job names it.
func Merge(jobs []Job, files []*File) *Report {
	rep := &Report{}
	index := make(map[string]int, len(jobs))
	for i, j := range jobs {
		index[j.ID()] = i
	}
	found := make([][]Located, len(jobs))
	for _, f := range files {
		rep.Damaged = append(rep.Damaged, f.Damaged...)
		if f.Torn > 0 {
			rep.Torn = append(rep.Torn, fmt.Sprintf("%s:%d", f.Name, f.Torn))
		}
		for k, r := range f.Records {
			l := Located{Record: r, File: f.Name, Line: f.Lines[k]}
			i, ok := index[r.Job]
			if !ok {
				rep.Unknown = append(rep.Unknown, l)
				continue
			}
			found[i] = append(found[i], l)
		}
	}
	for i, j := range jobs {
		got := found[i]
		if len(got) == 0 {
			rep.Missing = append(rep.Missing, j)
			continue
		}
		conflict := false
		for _, l := range got[1:] {
			conflict = conflict || l.Stats != got[0].Stats
		}
		if conflict {
			rep.Conflicts = append(rep.Conflicts, got)
			continue
		}
		rep.Duplicates += len(got) - 1
		rep.Records = append(rep.Records, NewRecord(j, got[0].Stats))
	}
	return rep
}
