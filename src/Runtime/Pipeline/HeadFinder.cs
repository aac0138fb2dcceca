using System;
using System.Threading;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Detection;
using HeadTracking.Runtime.Inference;
using OpenCvSharp;

namespace HeadTracking.Runtime.Pipeline;

/// <summary>
/// Two-stage mode: where in the frame the model looks. While the head is lost, BlazeFace searches
/// the whole frame and the crop starts around the widest face; while it is tracked, the crop
/// follows the model's own head centre and face width through <see cref="CropTracker"/>'s dead
/// band. Allocates nothing per frame. Not thread-safe: the worker's.
/// </summary>
internal sealed class HeadFinder : IDisposable
{

    private readonly BlazeFaceDetector _detector;
    private readonly FaceDetections _faces = new();
    private readonly double _cropScale;
    private long _detections;

    public HeadFinder(BlazeFaceDetector detector, double cropScale, double deadband)
    {
        _detector = detector;
        _cropScale = cropScale;
        Crop = new CropTracker(deadband, 2 * deadband);
    }

    /// <summary>The crop the model sees next.</summary>
    public CropTracker Crop { get; }

    /// <summary>Frames on which the detector ran. Any thread.</summary>
    public long Detections => Interlocked.Read(ref _detections);

    /// <summary>True when there is a crop for this frame: the one being tracked, or, when the head
    /// was lost, one around the face the detector finds now.</summary>
    public bool Locate(Mat frame) => Crop.Active || Detect(frame);

    /// <summary>After the frame: the crop follows the head the model found (its centre, and its
    /// face width when the model has a box head) once it leaves the dead band, or is dropped when
    /// the result was not valid.</summary>
    public void Follow(bool valid, HeadOutputs o, int width, int height)
    {
        if (!valid)
        {
            Crop.Lose();
            return;
        }

        float side = o.HasBox ? ClampSide((float)(_cropScale * (o.Box[2] - o.Box[0])), width, height) : float.NaN;
        if (o.HasCenter)
        {
            Crop.Follow(o.CenterX, o.CenterY, side);
        }
        else if (o.HasBox)
        {
            Crop.Follow((o.Box[0] + o.Box[2]) / 2, (o.Box[1] + o.Box[3]) / 2, side);
        }
    }

    public void Dispose() => _detector.Dispose();

    private bool Detect(Mat frame)
    {
        Interlocked.Increment(ref _detections);
        _detector.Detect(frame, _faces);
        if (_faces.Count == 0)
        {
            return false;
        }

        // The user is the face nearest the camera: the widest one, not the likeliest.
        float[] b = _faces.Boxes;
        int best = 0;
        for (int i = 1; i < _faces.Count; i++)
        {
            if (b[(i * 4) + 2] - b[i * 4] > b[(best * 4) + 2] - b[best * 4])
            {
                best = i;
            }
        }

        float x0 = b[best * 4], y0 = b[(best * 4) + 1], x1 = b[(best * 4) + 2], y1 = b[(best * 4) + 3];
        Crop.Place((x0 + x1) / 2, (y0 + y1) / 2, ClampSide((float)(_cropScale * Conventions.DetectorToFaceWidth * (x1 - x0)), frame.Width, frame.Height));
        return true;
    }

    private static float ClampSide(float side, int width, int height) =>
        float.IsFinite(side) ? Math.Max(32f, Math.Min(side, 2f * Math.Max(width, height))) : 2f * Math.Max(width, height);
}
