using System;
using System.IO;
using System.Runtime.InteropServices;
using OpenCvSharp;

namespace HeadTracker.Runtime.Capture;

/// <summary>A webcam by index through OpenCV, asking for MJPG at the requested size and rate.</summary>
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

        _capture.Set(VideoCaptureProperties.FourCC, FourCC.MJPG);
        _capture.Set(VideoCaptureProperties.FrameWidth, width);
        _capture.Set(VideoCaptureProperties.FrameHeight, height);
        _capture.Set(VideoCaptureProperties.Fps, fps);
        Description = $"camera {index} ({_capture.FrameWidth}x{_capture.FrameHeight})";
    }

    public string Description { get; }

    /// <summary>Whether camera <paramref name="index"/> exists, without opening it (Linux: its
    /// /dev/video node; elsewhere assumed present and checked on open).</summary>
    public static bool IsPresent(int index) =>
        !RuntimeInformation.IsOSPlatform(OSPlatform.Linux) || File.Exists($"/dev/video{index}");

    public bool Read(Mat frame) => _capture.Read(frame) && !frame.Empty();

    public void Dispose() => _capture.Dispose();
}
