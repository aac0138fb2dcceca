using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HeadTracking.Trainer.Training;

/// <summary>
/// Keeps libtorch's oneDNN convolutions to the instruction set they compute right with here.
/// On the build machines (AMD EPYC with AVX-512, under a hypervisor) oneDNN's AVX, AVX2 and
/// AVX-512 kernels returned wrong values for most convolutions we tried: off by 0.16 to 0.66
/// against the same convolution in float64 (outputs of about 2), for the mask decoder's 3x3
/// convolutions and for backbone-sized ones alike. Training showed it as a NaN loss at a random
/// step, and the trainer's BlazeFace model disagreed with its ONNX export by 6e-4. Limited to
/// SSE4.1 kernels (oneDNN's ONEDNN_MAX_CPU_ISA), every convolution agrees with float64 to 1e-6.
/// The price: a training step of the default model's five heads takes about a quarter longer
/// (766 against 613 ms for a batch of 32, measured beside a running training), the decoder's small
/// convolutions 2 to 4 times longer, and the segmentation task test (a full-resolution decoder)
/// took 3.9 minutes instead of 2.9. oneDNN reads the variable once, at its first convolution,
/// from the process's native environment, so it is set there as soon as this assembly loads. A
/// value the user set (ONEDNN_MAX_CPU_ISA=ALL is oneDNN's own choice) is left alone.
/// <para>
/// Also lets libtorch's OpenMP threads sleep between parallel regions (OMP_WAIT_POLICY=PASSIVE).
/// By default they spin for a while after each one, waiting for the next; with anything else
/// computing on the same cores (a second training, a test run's parallel classes, a game) the
/// spinning threads and the working ones take turns: on the 2-core build machine a small run
/// (the counting task, 1 + 2 epochs at 64x64) took 51 s beside a training of the default
/// model's heads, against 6.4 s alone. With both processes' threads sleeping it took 11 s there
/// (the cores are shared), and alone it costs nothing measurable (6.6 s; 40 steps of the
/// default model's recipe took the same time, with a fifth less CPU time). libgomp reads the
/// variable when libtorch loads, so it is set with the other one.
/// </para>
/// <para>
/// And, once a <see cref="Learner"/> is made, keeps freed native memory for reuse (glibc malloc,
/// <see cref="KeepFreedMemory"/>): libtorch
/// allocates a step's activations and frees them after it, and with glibc's defaults blocks of
/// that size either got fresh pages of their own or were handed back to the system when freed, so
/// every step faulted all of them in again. Kept, 40 steps of the default model's recipe spent
/// 9.3 s in the forward pass instead of 14.5 (backward the same, 4.8 s) and a 20-step run of the
/// centre head took 23 s instead of 37, a third of it in the kernel before; the numbers are the
/// same to the last digit. The price is memory the process keeps until it ends (its peak).
/// </para>
/// </summary>
internal static class TorchSettings
{
    /// <summary>The variable oneDNN reads.</summary>
    public const string Variable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The level set when the user set none.</summary>
    public const string Level = "SSE41";

    /// <summary>The variable OpenMP reads for what idle threads do.</summary>
    public const string WaitPolicyVariable = "OMP_WAIT_POLICY";

    /// <summary>The wait policy set when the user set none: idle threads sleep.</summary>
    public const string WaitPolicy = "PASSIVE";

    /// <summary>Sets <see cref="Variable"/> to <see cref="Level"/> in the native environment
    /// unless it is set already; returns the value in force.</summary>
    public static string LimitOneDnn() => SetUnlessSet(Variable, Level);

    /// <summary>Sets <see cref="WaitPolicyVariable"/> to <see cref="WaitPolicy"/> in the native
    /// environment unless it is set already; returns the value in force.</summary>
    public static string QuietOpenMp() => SetUnlessSet(WaitPolicyVariable, WaitPolicy);

    /// <summary>The glibc malloc settings <see cref="KeepFreedMemory"/> makes, as the environment
    /// variables that would make them at a process's start (any of them set: left alone).</summary>
    private static readonly string[] MallocVariables = ["MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_"];

    /// <summary>Keeps freed native memory in this process for the next allocation (glibc's malloc,
    /// on Linux): blocks up to 32 MB come from the heap rather than fresh pages of their own, and
    /// the heap is not given back to the system after each step. Returns what it did, for the log.</summary>
    public static string KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "the system's allocator (not Linux)";
        }

        if (Array.Exists(MallocVariables, v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v))))
        {
            return "glibc malloc as the MALLOC_* variables set it";
        }

        try
        {
            bool done = mallopt(MmapThreshold, 32 << 20) == 1 && mallopt(TrimThreshold, int.MaxValue) == 1 && mallopt(TopPad, 64 << 20) == 1;
            return done ? "kept for reuse (glibc mallopt)" : "the system's allocator (mallopt refused)";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return "the system's allocator (no glibc mallopt)";
        }
    }

    /// <summary>Tells libtorch not to try NNPACK for its convolutions (at::Context's
    /// setUserEnabledNNPACK, which TorchSharp does not expose). NNPACK cannot start on CPUs it does
    /// not know (the build machines' AMD EPYC among them), and libtorch then printed "Could not
    /// initialize NNPACK! Reason: Unsupported hardware." for every convolution of a small
    /// no-gradient batch it considered it for: 23 lines at the dense teacher's first face in
    /// `synth`, `label` and `teacher-crops`. Off, nothing changes here but the warnings (NNPACK
    /// never ran on these machines: `synth` writes the same bytes as before); on a CPU NNPACK knows,
    /// libtorch's other kernels do the few convolutions it would have taken. Linux x64 only (the C++
    /// names are the Itanium ABI's); returns whether it was done.</summary>
    public static bool SkipNnpack()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return false;
        }

        try
        {
            IntPtr context = at_globalContext();
            if (context == IntPtr.Zero)
            {
                return false;
            }

            at_Context_setUserEnabledNNPACK(context, false);
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Every setting (the tests' module initializer calls it). This assembly's own
    /// initializer sets only the two variables, which must be in place before libtorch loads; the
    /// allocator is set by <see cref="Learner"/>, for processes that train, so that a process that
    /// only uses the trainer's other parts (the benchmark's clips, say) keeps the system's.</summary>
    public static void Apply()
    {
        LimitOneDnn();
        QuietOpenMp();
        KeepFreedMemory();
    }

    private const int TrimThreshold = -1, TopPad = -2, MmapThreshold = -3; // glibc's M_* parameters

    private static string SetUnlessSet(string name, string value)
    {
        string? mine = Environment.GetEnvironmentVariable(name);
        if (!string.IsNullOrEmpty(mine))
        {
            return mine;
        }

        Environment.SetEnvironmentVariable(name, value); // Windows: the process environment the native libraries read
        if (!OperatingSystem.IsWindows())
        {
            _ = setenv(name, value, 0); // elsewhere .NET keeps its own copy: libc's is what getenv sees
        }

        return value;
    }

    [ModuleInitializer]
    internal static void OnLoad()
    {
        LimitOneDnn();
        QuietOpenMp();
    }

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);

    [DllImport("libc")]
    private static extern int mallopt(int param, int value);

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr at_globalContext();

    [DllImport("libtorch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledNNPACKEb")]
    private static extern void at_Context_setUserEnabledNNPACK(IntPtr context, [MarshalAs(UnmanagedType.U1)] bool enabled);
}
