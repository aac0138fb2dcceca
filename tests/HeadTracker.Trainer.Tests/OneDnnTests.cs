using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HeadTracking.Trainer.Training;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Tests;

/// <summary>Limits libtorch's oneDNN and quiets its OpenMP threads in this test process too, before
/// any test runs a libtorch operation (oneDNN fixes its kernels at the first convolution, libgomp
/// reads its wait policy when libtorch loads).</summary>
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

/// <summary>What libgomp and oneDNN will read: the settings are in the native environment (where
/// .NET's own copy of the environment is not), set before any test ran a libtorch operation.</summary>
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

    private static string? NativeValue(string name) =>
        OperatingSystem.IsWindows() ? Environment.GetEnvironmentVariable(name) : Marshal.PtrToStringAnsi(getenv(name));

    [DllImport("libc", CharSet = CharSet.Ansi)]
    private static extern IntPtr getenv(string name);
}
