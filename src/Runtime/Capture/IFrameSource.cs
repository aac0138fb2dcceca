using System;
using OpenCvSharp;

namespace HeadTracking.Runtime.Capture;

/// <summary>
/// Where frames come from: a camera, a video file, a folder of images. <see cref="Read"/> fills the
/// caller's Mat (reusing its buffer when the size is unchanged). Use from one thread at a time.
/// </summary>
internal interface IFrameSource : IDisposable
{
    /// <summary>Says what this source is, for logs and the demo's HUD.</summary>
    string Description { get; }

    /// <summary>A live source (camera, pushed frames) may pause and come back, so the tracker
    /// retries when <see cref="Read"/> returns false; for a file source false means the end.</summary>
    bool Live { get; }

    /// <summary>Reads the next frame as 8-bit BGR into <paramref name="frame"/>; false at the end.</summary>
    bool Read(Mat frame);
}
