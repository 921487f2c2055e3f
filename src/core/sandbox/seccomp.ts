/**
 * The seccomp filter every sandbox gets from bubblewrap (`--seccomp FD`): the kernel's keyrings are not
 * namespaced, so without it a sandboxed command reads the session keyring it inherits (Kerberos tickets,
 * file-system encryption keys, AFS tokens) and, as the same user, the user's keyring. `add_key`,
 * `request_key` and `keyctl` fail with EPERM instead, as in Docker's and Flatpak's default profiles; every
 * other call is allowed. The program is classic BPF, written out here: bubblewrap takes it ready-made.
 */
import { mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The descriptor bubblewrap reads the program from: after the gate's (3, 4) and the prepared sandbox's (5). */
export const SECCOMP_FD = 6;

// struct seccomp_data: int nr at offset 0, u32 arch at offset 4.
const NR = 0;
const ARCH = 4;
const LD_ABS_W = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RET_K = 0x06; // BPF_RET | BPF_K
const RET_ALLOW = 0x7fff0000;
const RET_EPERM = 0x00050000 | 1; // SECCOMP_RET_ERRNO | EPERM
// x32 calls are x86-64's with this bit set.
const X32_BIT = 0x40000000;

/** The keyring calls (add_key, request_key, keyctl) of each ABI a kernel of this architecture runs. */
const ABIS: Partial<Record<NodeJS.Architecture, { arch: number; calls: number[]; x32?: boolean }[]>> = {
  x64: [{ arch: 0xc000003e, calls: [248, 249, 250], x32: true }, { arch: 0x40000003, calls: [286, 287, 288] }],
  arm64: [{ arch: 0xc00000b7, calls: [217, 218, 219] }, { arch: 0x40000028, calls: [309, 310, 311] }],
};

type Insn = { code: number; jt?: number | string; jf?: number | string; k: number; label?: string };

/** The filter for `arch` as bubblewrap reads it (struct sock_filter[], little-endian); undefined where none is written. */
export function keyringFilter(arch: NodeJS.Architecture = process.arch): Buffer | undefined {
  const abis = ABIS[arch];
  if (!abis) return undefined;
  const insns: Insn[] = [{ code: LD_ABS_W, k: ARCH }];
  abis.forEach((abi, i) => insns.push({ code: JEQ_K, k: abi.arch, jt: `abi${i}`, jf: 0 }));
  // A call of an ABI this kernel does not run cannot be made: nothing to deny.
  insns.push({ code: RET_K, k: RET_ALLOW });
  abis.forEach((abi, i) => {
    insns.push({ code: LD_ABS_W, k: NR, label: `abi${i}` });
    if (abi.x32) insns.push({ code: AND_K, k: ~X32_BIT >>> 0 });
    for (const call of abi.calls) insns.push({ code: JEQ_K, k: call, jt: 'deny', jf: 0 });
    insns.push({ code: RET_K, k: RET_ALLOW });
  });
  insns.push({ code: RET_K, k: RET_EPERM, label: 'deny' });
  const at = new Map(insns.flatMap((insn, pc) => (insn.label ? [[insn.label, pc] as const] : [])));
  const offset = (pc: number, target: number | string | undefined) => (typeof target === 'string' ? (at.get(target) as number) - pc - 1 : target ?? 0);
  const program = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, pc) => {
    program.writeUInt16LE(insn.code, pc * 8);
    program.writeUInt8(offset(pc, insn.jt), pc * 8 + 2);
    program.writeUInt8(offset(pc, insn.jf), pc * 8 + 3);
    program.writeUInt32LE(insn.k >>> 0, pc * 8 + 4);
  });
  return program;
}

let held: number | undefined;

/**
 * A fresh read-only descriptor of the filter, positioned at its start, for one bubblewrap to read (the caller
 * closes it once bwrap is started). The bytes live in a file that was unlinked as soon as it was opened: no
 * file is left behind whatever ends this process, and a regular file is read whole at once, however this
 * process fares meanwhile (a pipe it must write into would not be, were it killed first).
 */
export function openSeccompProgram(): number {
  if (held === undefined) {
    const program = keyringFilter();
    if (!program) throw new Error(`no seccomp filter is written for ${process.arch}`);
    const dir = mkdtempSync(join(tmpdir(), 'entropo-seccomp-'));
    const file = join(dir, 'filter.bpf');
    try {
      writeFileSync(file, program, { mode: 0o400 });
      held = openSync(file, 'r');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // A descriptor of its own, with an offset of its own: bwrap reads to the end of it.
  return openSync(`/proc/self/fd/${held}`, 'r');
}

/** bubblewrap's arguments that load the filter from SECCOMP_FD; none where there is no filter for this machine. */
export function seccompArgs(): string[] {
  return keyringFilter() ? ['--seccomp', String(SECCOMP_FD)] : [];
}

/** A bash redirection that feeds the filter to SECCOMP_FD of the command it ends (for a bwrap started from a script). */
export function seccompRedirect(): string {
  const program = keyringFilter();
  if (!program) return '';
  const escaped = [...program].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('');
  return `${SECCOMP_FD}< <(printf '%b' '${escaped}')`;
}
