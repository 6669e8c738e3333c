// Package vmtest helps tests of code that uses package vm check what
// happens without privileges: it re-runs a test in a child process that
// gives up root ([Unprivileged]) or keeps it ([Child]), and can refuse
// system calls as a container's seccomp profile does ([DenyUserfaultfd],
// [DenyKernelCounters]). Its one skip, [Missing], and the helpers built on
// it ([SkipIfNotSupported], [RequireRoot], [RequireCapability],
// [RequireTool]) skip a test for what it lacks, or fail it when the
// environment demands everything ([RequireEnv]).
//
// It is for tests only: it changes the credentials and the seccomp filters
// of the whole process it runs in.
package vmtest
