using System;
using System.IO;
using OpenCvSharp;

namespace HeadTracker.Runtime.Capture;

/// <summary>A video file decoded by OpenCV's FFmpeg backend, read as fast as asked, optionally looping.</summary>
internal sealed class VideoFileSource : IFrameSource
{
    private readonly VideoCapture _capture;
    private readonly bool _loop;

    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">OpenCV cannot decode it; the message names the file.</exception>
    public VideoFileSource(string path, bool loop = false)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"video file not found: {path}", path);
        }

        _capture = new VideoCapture(path);
        if (!_capture.IsOpened() || _capture.FrameWidth <= 0)
        {
            _capture.Dispose();
            throw new InvalidDataException($"{path}: not a video OpenCV can decode");
        }

        _loop = loop;
        FramesPerSecond = _capture.Fps;
        Description = $"video {Path.GetFileName(path)} ({_capture.FrameWidth}x{_capture.FrameHeight}, {FramesPerSecond:F0} fps)";
    }

    public string Description { get; }

    /// <summary>The frame rate the file declares.</summary>
    public double FramesPerSecond { get; }

    public bool Read(Mat frame)
    {
        if (_capture.Read(frame) && !frame.Empty())
        {
            return true;
        }

        if (!_loop)
        {
            return false;
        }

        _capture.Set(VideoCaptureProperties.PosFrames, 0);
        return _capture.Read(frame) && !frame.Empty();
    }

    public void Dispose() => _capture.Dispose();
}
