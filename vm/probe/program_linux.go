//go:build linux

package probe

import (
	"fmt"

	"github.com/cilium/ebpf/asm"

	"vmsim/vm/arch"
)

// Layout of the maps the program shares with user space.
const (
	// rangeSlot is the size of one range in the ranges map's single value:
	// start and end, u64 each.
	rangeSlot = 16
	// totalsSlots is the number of entries of the per-CPU totals array:
	// one per (range, error code), then lostSlot and overflowSlot.
	totalsSlots  = MaxRanges*NumCodes + 2
	lostSlot     = MaxRanges * NumCodes
	overflowSlot = MaxRanges*NumCodes + 1
	// pageKeySize is the per-page map's key: page address u64, error code
	// u32, range index u32.
	pageKeySize = 16
	// eventSize is one ring-buffer record: time u64, address u64, ip u64,
	// tid u32, error code u16, range u8, pad u8.
	eventSize = 32
	// ptRegsIP is offsetof(struct pt_regs, ip) on x86-64, where the raw
	// tracepoint finds the faulting instruction.
	ptRegsIP = 16 * 8
	// bpfNoExist is BPF_NOEXIST: create a map entry, fail if it exists.
	bpfNoExist = 1
)

// Stack slots (offsets from the frame pointer r10).
const (
	stKey     = -8  // u32 array key
	stTime    = -16 // u64 event time
	stPageKey = -32 // 16-byte per-page key
	stOne     = -40 // u64 value 1 for a new per-page entry
	stPidTgid = -48 // u64 bpf_get_current_pid_tgid
	stIP      = -56 // u64 faulting instruction
)

// progSpec says what program to build.
type progSpec struct {
	// raw selects the raw tracepoint's context (u64 args[]) instead of the
	// tracepoint's record.
	raw bool
	// lay is the tracepoint record layout (ignored when raw).
	lay layout
	// tgid is the process whose faults count.
	tgid uint32
	// ps is the page size.
	ps arch.PageSize
	// Map descriptors; pages and events are -1 when not wanted.
	ranges, totals, pages, events int
}

// instructions builds the probe. Its per-fault path, for a fault of
// another process, is one helper call and a compare; for one of ours it
// adds an inlined array lookup, at most 2*MaxRanges compares and an inlined
// per-CPU array increment, then optionally a hash lookup (and insert) and a
// ring-buffer record.
func (s progSpec) instructions() (asm.Instructions, error) {
	if s.tgid > 1<<31-1 {
		return nil, fmt.Errorf("tgid %d does not fit an immediate", s.tgid)
	}
	addrOff, codeOff, ipOff := int16(s.lay.address), int16(s.lay.errorCode), int16(s.lay.ip)
	if s.raw {
		// TP_PROTO(unsigned long address, struct pt_regs *regs,
		//          unsigned long error_code): args[0], args[1], args[2].
		addrOff, codeOff = 0, 16
	}
	in := asm.Instructions{
		asm.Mov.Reg(asm.R6, asm.R1),
		asm.FnGetCurrentPidTgid.Call(),
		asm.StoreMem(asm.RFP, stPidTgid, asm.R0, asm.DWord),
		asm.RSh.Imm(asm.R0, 32),
		asm.JNE.Imm(asm.R0, int32(s.tgid), "exit"),
		asm.LoadMem(asm.R7, asm.R6, addrOff, asm.DWord),
		asm.LoadMem(asm.R8, asm.R6, codeOff, asm.DWord),
		// The ranges: one array entry holding MaxRanges (start, end)
		// pairs; an unused slot is (0, 0) and never matches.
		asm.Mov.Imm(asm.R1, 0),
		asm.StoreMem(asm.RFP, stKey, asm.R1, asm.Word),
		asm.LoadMapPtr(asm.R1, s.ranges),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "exit"),
	}
	for i := range MaxRanges {
		next := fmt.Sprintf("range%d", i+1)
		if i == MaxRanges-1 {
			next = "exit"
		}
		off := int16(i * rangeSlot)
		in = append(in,
			asm.LoadMem(asm.R1, asm.R0, off, asm.DWord).WithSymbol(fmt.Sprintf("range%d", i)),
			asm.JLT.Reg(asm.R7, asm.R1, next),
			asm.LoadMem(asm.R1, asm.R0, off+8, asm.DWord),
			asm.JGE.Reg(asm.R7, asm.R1, next),
			asm.Mov.Imm(asm.R9, int32(i)),
			asm.Ja.Label("match"),
		)
	}
	// Totals: slot range*NumCodes + (code & (NumCodes-1)).
	in = append(in,
		asm.Mov.Reg(asm.R1, asm.R9).WithSymbol("match"),
		asm.LSh.Imm(asm.R1, 5),
		asm.Mov.Reg(asm.R2, asm.R8),
		asm.And.Imm(asm.R2, NumCodes-1),
		asm.Add.Reg(asm.R1, asm.R2),
	)
	in = append(in, increment(s.totals, "pages")...)
	in = append(in, asm.Mov.Imm(asm.R0, 0).WithSymbol("pages"))
	if s.pages >= 0 {
		in = append(in,
			asm.Mov.Reg(asm.R1, asm.R7),
			asm.And.Imm(asm.R1, -int32(s.ps)),
			asm.StoreMem(asm.RFP, stPageKey, asm.R1, asm.DWord),
			asm.Mov.Reg(asm.R1, asm.R8),
			asm.And.Imm(asm.R1, NumCodes-1),
			asm.StoreMem(asm.RFP, stPageKey+8, asm.R1, asm.Word),
			asm.StoreMem(asm.RFP, stPageKey+12, asm.R9, asm.Word),
			asm.LoadMapPtr(asm.R1, s.pages),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, stPageKey),
			asm.FnMapLookupElem.Call(),
			asm.JNE.Imm(asm.R0, 0, "page_add"),
			// First fault of this (page, code): insert 1. StoreImm
			// cannot store a double word: go through a register.
			asm.Mov.Imm(asm.R1, 1),
			asm.StoreMem(asm.RFP, stOne, asm.R1, asm.DWord),
			asm.LoadMapPtr(asm.R1, s.pages),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, stPageKey),
			asm.Mov.Reg(asm.R3, asm.RFP),
			asm.Add.Imm(asm.R3, stOne),
			asm.Mov.Imm(asm.R4, bpfNoExist),
			asm.FnMapUpdateElem.Call(),
			asm.JEq.Imm(asm.R0, 0, "events"),
			// Another CPU inserted it first (EEXIST), or the map is
			// full: look again.
			asm.LoadMapPtr(asm.R1, s.pages),
			asm.Mov.Reg(asm.R2, asm.RFP),
			asm.Add.Imm(asm.R2, stPageKey),
			asm.FnMapLookupElem.Call(),
			asm.JNE.Imm(asm.R0, 0, "page_add"),
			asm.Mov.Imm(asm.R1, overflowSlot),
		)
		in = append(in, increment(s.totals, "events")...)
		in = append(in,
			asm.Ja.Label("events"),
			asm.Mov.Imm(asm.R1, 1).WithSymbol("page_add"),
			asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		)
	}
	in = append(in, asm.Mov.Imm(asm.R0, 0).WithSymbol("events"))
	if s.events >= 0 {
		if s.raw {
			// regs->ip, read with bpf_probe_read_kernel (zeroes the
			// destination on failure).
			in = append(in,
				asm.Mov.Reg(asm.R1, asm.RFP),
				asm.Add.Imm(asm.R1, stIP),
				asm.Mov.Imm(asm.R2, 8),
				asm.LoadMem(asm.R3, asm.R6, 8, asm.DWord),
				asm.Add.Imm(asm.R3, ptRegsIP),
				asm.FnProbeReadKernel.Call(),
			)
		} else {
			in = append(in,
				asm.LoadMem(asm.R1, asm.R6, ipOff, asm.DWord),
				asm.StoreMem(asm.RFP, stIP, asm.R1, asm.DWord),
			)
		}
		in = append(in,
			asm.FnKtimeGetNs.Call(),
			asm.StoreMem(asm.RFP, stTime, asm.R0, asm.DWord),
			asm.LoadMapPtr(asm.R1, s.events),
			asm.Mov.Imm(asm.R2, eventSize),
			asm.Mov.Imm(asm.R3, 0),
			asm.FnRingbufReserve.Call(),
			asm.JEq.Imm(asm.R0, 0, "lost"),
			asm.LoadMem(asm.R1, asm.RFP, stTime, asm.DWord),
			asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
			asm.StoreMem(asm.R0, 8, asm.R7, asm.DWord),
			asm.LoadMem(asm.R1, asm.RFP, stIP, asm.DWord),
			asm.StoreMem(asm.R0, 16, asm.R1, asm.DWord),
			asm.LoadMem(asm.R1, asm.RFP, stPidTgid, asm.DWord),
			asm.StoreMem(asm.R0, 24, asm.R1, asm.Word),
			asm.StoreMem(asm.R0, 28, asm.R8, asm.Half),
			asm.StoreMem(asm.R0, 30, asm.R9, asm.Byte),
			asm.Mov.Imm(asm.R1, 0),
			asm.StoreMem(asm.R0, 31, asm.R1, asm.Byte),
			asm.Mov.Reg(asm.R1, asm.R0),
			asm.Mov.Imm(asm.R2, 0),
			asm.FnRingbufSubmit.Call(),
			asm.Ja.Label("exit"),
			asm.Mov.Imm(asm.R1, lostSlot).WithSymbol("lost"),
		)
		in = append(in, increment(s.totals, "exit")...)
	}
	in = append(in,
		asm.Mov.Imm(asm.R0, 0).WithSymbol("exit"),
		asm.Return(),
	)
	return in, nil
}

// increment adds one to the per-CPU totals slot whose index is in r1, then
// falls through; it jumps to done if the slot does not exist. It clobbers
// r0 to r5. Per-CPU values need no atomic add: a program does not migrate
// while it runs.
func increment(totals int, done string) asm.Instructions {
	return asm.Instructions{
		asm.StoreMem(asm.RFP, stKey, asm.R1, asm.Word),
		asm.LoadMapPtr(asm.R1, totals),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, stKey),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, done),
		asm.LoadMem(asm.R1, asm.R0, 0, asm.DWord),
		asm.Add.Imm(asm.R1, 1),
		asm.StoreMem(asm.R0, 0, asm.R1, asm.DWord),
	}
}
