package arch

// Prot is a set of access rights on memory.
type Prot uint8

// Protection bits. They are vmsim's own values: package vm converts them to
// the kernel's PROT_* bits.
const (
	ProtRead Prot = 1 << iota
	ProtWrite
	ProtExec

	// ProtNone grants no access.
	ProtNone Prot = 0
	// ProtReadWrite grants reads and writes.
	ProtReadWrite = ProtRead | ProtWrite
	// ProtAll grants every access.
	ProtAll = ProtRead | ProtWrite | ProtExec
)

// Read reports whether p allows reads.
func (p Prot) Read() bool { return p&ProtRead != 0 }

// Write reports whether p allows writes.
func (p Prot) Write() bool { return p&ProtWrite != 0 }

// Exec reports whether p allows instruction fetches.
func (p Prot) Exec() bool { return p&ProtExec != 0 }

// SupersetOf reports whether p grants every right that o grants.
func (p Prot) SupersetOf(o Prot) bool { return p&o == o }

// Union returns the rights granted by p or o.
func (p Prot) Union(o Prot) Prot { return p | o }

// Intersect returns the rights granted by both p and o.
func (p Prot) Intersect(o Prot) Prot { return p & o }

// Valid reports whether p holds only known bits.
func (p Prot) Valid() bool { return p&^ProtAll == 0 }

// String prints p as ls(1) prints permissions: "r--", "rw-", "---".
func (p Prot) String() string {
	b := []byte("---")
	if p.Read() {
		b[0] = 'r'
	}
	if p.Write() {
		b[1] = 'w'
	}
	if p.Exec() {
		b[2] = 'x'
	}
	if !p.Valid() {
		return string(b) + "?"
	}
	return string(b)
}

// AccessKind says what an access does to memory.
type AccessKind uint8

//go:generate go run golang.org/x/tools/cmd/stringer@v0.52.0 -type=AccessKind,Signal -linecomment -output=kind_string.go

// Access kinds. The zero value means the kind is not known: a fault raised by
// code that did not declare what it was doing.
const (
	AccessUnspecified AccessKind = iota // unspecified
	AccessRead                          // read
	AccessWrite                         // write
	AccessExec                          // exec
)

// Prot returns the protection an access of kind k needs. An unspecified
// access is treated as a read: code that does not declare its kind pays a
// second fault when it writes (read, then upgrade).
func (k AccessKind) Prot() Prot {
	switch k {
	case AccessWrite:
		return ProtReadWrite
	case AccessExec:
		return ProtRead | ProtExec
	default:
		return ProtRead
	}
}

// Signal is the signal a memory fault raised.
type Signal uint8

// Signals. The Go runtime's panic value does not say which signal it came
// from, so a fault starts as SignalUnknown and the owner of the memory may
// classify it (package vm knows which pages are beyond the end of a file).
const (
	SignalUnknown Signal = iota // unknown signal
	SIGSEGV                     // SIGSEGV
	SIGBUS                      // SIGBUS
)
