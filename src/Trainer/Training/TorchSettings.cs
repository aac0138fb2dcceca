using System;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace HeadTracker.Trainer.Training;

/// <summary>
/// libtorch switches that TorchSharp does not expose. oneDNN (MKL-DNN), libtorch's fast CPU path
/// for convolutions, gave NaN at random on the build machines' AMD EPYC (AVX-512) CPUs: a
/// convolution in the mask head's decoder returned NaN for a whole batch of finite inputs and
/// finite weights, at a different step on each run, and the same forward pass run again was
/// finite (limiting oneDNN or MKL to AVX2 by their environment variables did not help). With
/// oneDNN off, libtorch falls back to its own kernels. PyTorch's switch for this is
/// <c>torch.backends.mkldnn.enabled</c>; here it is at::Context::setUserEnabledMkldnn, called
/// directly (libtorch exports it).
/// </summary>
internal static class TorchSettings
{
    private const string Lib = "libtorch_cpu";

    /// <summary>Whether oneDNN is used for convolutions now (false after <see cref="UseOneDnn"/>(false)).</summary>
    public static bool OneDnnEnabled => Native.UserEnabledMkldnn(Native.GlobalContext());

    /// <summary>Turns oneDNN on or off for this process (libtorch must be loaded: any tensor made first).</summary>
    public static void UseOneDnn(bool enabled) => Native.SetUserEnabledMkldnn(Native.GlobalContext(), enabled);

    /// <summary>Turns oneDNN off until disposed (then as it was), for the layers it fails in;
    /// does nothing when HEADTRACKER_ONEDNN=1.</summary>
    public static Scope OneDnnOff() => new(Environment.GetEnvironmentVariable("HEADTRACKER_ONEDNN") != "1" && OneDnnEnabled);

    /// <summary>See <see cref="OneDnnOff"/>.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly bool _restore;

        internal Scope(bool restore)
        {
            _restore = restore;
            if (restore)
            {
                UseOneDnn(false);
            }
        }

        public void Dispose()
        {
            if (_restore)
            {
                UseOneDnn(true);
            }
        }
    }

    private static class Native
    {
        [DllImport(Lib, EntryPoint = "_ZN2at13globalContextEv")]
        public static extern IntPtr GlobalContext();

        [DllImport(Lib, EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
        public static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);

        [DllImport(Lib, EntryPoint = "_ZNK2at7Context17userEnabledMkldnnEv")]
        [return: MarshalAs(UnmanagedType.I1)]
        public static extern bool UserEnabledMkldnn(IntPtr context);
    }
}
