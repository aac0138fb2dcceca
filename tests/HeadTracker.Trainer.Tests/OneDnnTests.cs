using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HeadTracking.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Tests;

/// <summary>Limits libtorch's oneDNN, quiets its OpenMP threads and keeps freed memory in this test
/// process too, before any test runs a libtorch operation (oneDNN fixes its kernels at the first
/// convolution, libgomp reads its wait policy when libtorch loads).</summary>
internal static class OneDnnSetup
{
    [ModuleInitializer]
    internal static void Init() => TorchSettings.Apply();
}

/// <summary>
/// libtorch's convolutions compute what a convolution computes (see Training/TorchSettings.cs):
/// the shapes of the default model's mask decoder and of a BlazeFace-sized layer, in float32 as
/// training runs them, against the same convolution in float64. With oneDNN's own choice of
/// kernels (ONEDNN_MAX_CPU_ISA=ALL: AVX-512 on the build machines) three of the four were off by
/// 0.16 to 0.59 there, and this test failed.
/// </summary>
public class OneDnnTests
{
    [Theory]
    [InlineData(184, 16, 16, 3)] // mask decoder, stride 16 -> 8 (96 + 88 channels in)
    [InlineData(58, 16, 32, 3)] // mask decoder, stride 8 -> 4 (16 + 42 channels in)
    [InlineData(16, 1, 32, 1)] // mask logits
    [InlineData(28, 28, 64, 3)] // a backbone-sized layer (its stride-2 feature map)
    public void A_float32_convolution_agrees_with_float64(int inChannels, int outChannels, int size, int kernel)
    {
        torch.manual_seed(3);
        using var scope = NewDisposeScope();
        var conv = Conv2d(inChannels, outChannels, kernel, padding: kernel / 2, bias: false);
        Tensor x = randn(32, inChannels, size, size).relu();
        x.requires_grad_(true); // as in training (the kernels differ from inference's)
        Tensor y = conv.forward(x);
        Tensor reference = functional.conv2d(x.detach().to_type(ScalarType.Float64), conv.weight!.detach().to_type(ScalarType.Float64), padding: [kernel / 2, kernel / 2]);
        double worst = (y.detach().to_type(ScalarType.Float64) - reference).abs().max().item<double>();
        double scale = reference.abs().max().item<double>();
        Assert.True(worst < 1e-5 * Math.Max(1, scale), $"float32 convolution off by {worst:G3} (outputs up to {scale:G3})");

        // The gradient too (training's backward pass).
        y.sum().backward();
        Tensor x64 = x.detach().to_type(ScalarType.Float64).requires_grad_(true);
        functional.conv2d(x64, conv.weight!.detach().to_type(ScalarType.Float64), padding: [kernel / 2, kernel / 2]).sum().backward();
        double gradWorst = (x.grad!.to_type(ScalarType.Float64) - x64.grad!).abs().max().item<double>();
        Assert.True(gradWorst < 1e-5 * Math.Max(1, x64.grad!.abs().max().item<double>()), $"input gradient off by {gradWorst:G3}");
    }
}

/// <summary>The trainer's process settings (Training/TorchSettings.cs): what libgomp and oneDNN will
/// read is in the native environment (where .NET's own copy of the environment is not), and freed
/// native memory is reused.</summary>
public class TorchSettingsTests
{
    [Fact]
    public void The_settings_are_in_the_native_environment_of_this_process()
    {
        // Unless the user running the tests set their own, these are the trainer's values.
        Assert.Equal(TorchSettings.QuietOpenMp(), NativeValue(TorchSettings.WaitPolicyVariable));
        Assert.Equal(TorchSettings.LimitOneDnn(), NativeValue(TorchSettings.Variable));
        Assert.False(string.IsNullOrEmpty(NativeValue(TorchSettings.WaitPolicyVariable)));
    }

    [Fact]
    public void NNPACK_is_turned_off_in_libtorch_itself()
    {
        // The C++ entry points bind on Linux x64 (the warnings it silences: TrainerCommandTests' synth).
        Assert.Equal(OperatingSystem.IsLinux() && System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64, TorchSettings.SkipNnpack());
    }

    /// <summary>libtorch allocates and frees a step's activations every step; glibc's defaults give
    /// blocks this large their own fresh pages, or give the freed heap back, so every step touched
    /// new pages (a quarter to a third of a training step's time went to that). Twelve 8 MB blocks allocated,
    /// written and freed five times: without the trainer's settings every round faulted in all of
    /// its 24,576 pages again (98,197 faults in rounds 2-5 on the build machine), with them 2,048.</summary>
    [Fact]
    public void Freed_native_memory_is_reused_without_touching_new_pages()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // glibc's malloc and RUSAGE_THREAD: Linux only
        }

        Assert.Equal("kept for reuse (glibc mallopt)", TorchSettings.KeepFreedMemory());
        const int blocks = 12, size = 8 << 20, page = 4096;
        long later = 0;
        for (int round = 0; round < 5; round++)
        {
            long before = MinorFaultsOfThisThread();
            var pointers = new IntPtr[blocks];
            for (int b = 0; b < blocks; b++)
            {
                pointers[b] = Marshal.AllocHGlobal(size); // malloc
                for (int offset = 0; offset < size; offset += page)
                {
                    Marshal.WriteByte(pointers[b], offset, 1);
                }
            }

            foreach (IntPtr pointer in pointers)
            {
                Marshal.FreeHGlobal(pointer);
            }

            later += round > 0 ? MinorFaultsOfThisThread() - before : 0;
        }

        long onePass = (long)blocks * size / page;
        Assert.True(later < onePass / 2, $"{later} page faults in rounds 2-5 (one round touches {onePass} pages)");
    }

    private static long MinorFaultsOfThisThread()
    {
        var usage = new long[18]; // struct rusage: two timevals, then ru_maxrss, ..., ru_minflt at [8]
        Assert.Equal(0, getrusage(1, usage)); // RUSAGE_THREAD
        return usage[8];
    }

    [DllImport("libc")]
    private static extern int getrusage(int who, long[] usage);

    private static string? NativeValue(string name) =>
        OperatingSystem.IsWindows() ? Environment.GetEnvironmentVariable(name) : Marshal.PtrToStringAnsi(getenv(name));

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern IntPtr getenv(string name);
}
