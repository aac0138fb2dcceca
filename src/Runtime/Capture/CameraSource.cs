using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using OpenCvSharp;

namespace HeadTracking.Runtime.Capture;

/// <summary>A webcam by index (or, on Linux, by name) through OpenCV, asking for MJPG at the
/// requested size and rate; the camera may choose the nearest it has, reported in
/// <see cref="Description"/>.</summary>
internal sealed class CameraSource : IFrameSource
{
    private readonly VideoCapture _capture;

    /// <exception cref="IOException">The camera is not there or will not open; the message names it.</exception>
    public CameraSource(int index, int width = 640, int height = 480, int fps = 30)
    {
        if (!IsPresent(index))
        {
            throw new IOException($"camera {index} not found (no /dev/video{index})");
        }

        _capture = new VideoCapture(index);
        if (!_capture.IsOpened())
        {
            _capture.Dispose();
            throw new IOException($"camera {index} is present but would not open (in use by another program?)");
        }

        // MJPG first: most USB webcams deliver 640x480 and above at 30 fps only compressed.
        _capture.Set(VideoCaptureProperties.FourCC, FourCC.MJPG);
        _capture.Set(VideoCaptureProperties.FrameWidth, width);
        _capture.Set(VideoCaptureProperties.FrameHeight, height);
        _capture.Set(VideoCaptureProperties.Fps, fps);
        Description = $"camera {index} ({_capture.FrameWidth}x{_capture.FrameHeight} at {_capture.Fps:F0} fps)";
    }

    public bool Live => true;

    public string Description { get; }

    /// <summary>Whether camera <paramref name="index"/> exists, without opening it (Linux: its
    /// /dev/video node; elsewhere assumed present and checked on open).</summary>
    public static bool IsPresent(int index) =>
        !RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || File.Exists($"/dev/video{index}");

    /// <summary>
    /// The index of the first camera whose name contains <paramref name="name"/> (ignoring case), from
    /// the V4L2 devices under <paramref name="sysfs"/> (Linux only: other systems' OpenCV backends
    /// open cameras by index, so pass the index there).
    /// </summary>
    /// <exception cref="IOException">No camera has that name; the message lists those there are.</exception>
    /// <exception cref="PlatformNotSupportedException">Not on Linux.</exception>
    public static int FindByName(string name, string sysfs = "/sys/class/video4linux")
    {
        if (!RuntimeInformation.IsOSPlatform(OSPlatform.Linux))
        {
            throw new PlatformNotSupportedException($"camera name '{name}': cameras can be chosen by name on Linux only; set HeadTrackerOptions.CameraIndex instead");
        }

        var found = new List<(int Index, string Name)>();
        if (Directory.Exists(sysfs))
        {
            foreach (string dir in Directory.GetDirectories(sysfs, "video*"))
            {
                string file = Path.Combine(dir, "name");
                if (int.TryParse(Path.GetFileName(dir).AsSpan(5), out int index) && File.Exists(file))
                {
                    found.Add((index, File.ReadAllText(file).Trim()));
                }
            }
        }

        found.Sort((a, b) => a.Index.CompareTo(b.Index));
        foreach ((int index, string camera) in found)
        {
            if (camera.Contains(name, StringComparison.OrdinalIgnoreCase))
            {
                return index;
            }
        }

        string there = found.Count == 0 ? "no cameras found" : "cameras: " + string.Join(", ", found.Select(c => $"{c.Index} '{c.Name}'"));
        throw new IOException($"no camera named '{name}' ({there})");
    }

    public bool Read(Mat frame) => _capture.Read(frame) && !frame.Empty();

    public void Dispose() => _capture.Dispose();
}
