// Package vmtest helps tests of code that uses package vm check what
// happens without privileges: it re-runs a test in a child process that
// gives up root ([Unprivileged]) and can refuse the userfaultfd system call
// as a container's seccomp profile does ([DenyUserfaultfd]).
//
// It is for tests only: it changes the credentials and the seccomp filters
// of the whole process it runs in.
package vmtest
