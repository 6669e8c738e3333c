// Package arch is the shared vocabulary of vmsim: addresses, page numbers,
// address ranges, page sizes, protections, access kinds and fault signals.
//
// It imports the standard library only and never talks to the operating
// system beyond asking for the page size, so every other package, portable
// or not, can use it. Conversions to the kernel's PROT_* bits live in package
// vm, not here.
//
// Page arithmetic that can overflow returns (value, ok); each such function
// has a Must twin that panics instead, for callers that have already checked
// their bounds.
package arch
