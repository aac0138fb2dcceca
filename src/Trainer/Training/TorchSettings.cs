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
/// </summary>
internal static class TorchSettings
{
    /// <summary>The variable oneDNN reads.</summary>
    public const string Variable = "ONEDNN_MAX_CPU_ISA";

    /// <summary>The level set when the user set none.</summary>
    public const string Level = "SSE41";

    /// <summary>Sets <see cref="Variable"/> to <see cref="Level"/> in the native environment
    /// unless it is set already; returns the value in force.</summary>
    public static string LimitOneDnn()
    {
        string? mine = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrEmpty(mine))
        {
            return mine;
        }

        Environment.SetEnvironmentVariable(Variable, Level); // Windows: the process environment oneDNN reads
        if (!OperatingSystem.IsWindows())
        {
            _ = setenv(Variable, Level, 0); // elsewhere .NET keeps its own copy: libc's is what getenv sees
        }

        return Level;
    }

    [ModuleInitializer]
    internal static void OnLoad() => LimitOneDnn();

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern int setenv(string name, string value, int overwrite);
}
