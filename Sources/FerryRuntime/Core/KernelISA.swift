import CKernels
import Foundation

/// The instruction-set paths the C kernels take. The environment variable `FERRY_ISA` limits them
/// for the whole process: `best` (the default: every path the CPU has), `avx2` (no AVX-512 paths,
/// what an AVX2-only CPU runs) or `portable` (plain C).
public enum KernelISA {
    /// The paths taken on this CPU under the limit: "avx512-vnni", "avx512" (F and DQ without VNNI),
    /// "avx2" or "portable".
    public static var active: String { String(cString: ferry_isa_active_name()) }

    /// The value of `FERRY_ISA` when it names no limit (nil when it is unset or valid).
    public static var invalidEnvironmentValue: String? {
        ferry_isa_env_invalid() != 0 ? ProcessInfo.processInfo.environment["FERRY_ISA"] ?? "" : nil
    }
}
