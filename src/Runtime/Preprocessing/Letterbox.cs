using System;
using OpenCvSharp;

namespace HeadTracking.Runtime.Preprocessing;

/// <summary>
/// Fits a frame into a square-or-rectangular model input keeping its aspect ratio, padding the rest
/// with black, and writes it as RGB floats, interleaved (NHWC) or planar (NCHW): a whole frame
/// that shrinks straight from the frame by <see cref="AreaResampler"/>, crops (and frames it does
/// not serve) through an 8-bit canvas and a 256-entry lookup table per channel.
/// Owns its scratch Mats; allocates only when the frame size changes. Not thread-safe: one per worker.
/// </summary>
internal sealed class Letterbox : IDisposable
{
    private readonly Mat _canvas;
    private readonly OutputArray _canvasOut;
    private readonly Mat _affine; // 2x3 frame-to-input transform for crops
    private readonly InputArray _affineIn;
    private readonly float[] _lutR = new float[256], _lutG = new float[256], _lutB = new float[256];
    private readonly float[] _gain = new float[3], _bias = new float[3]; // R, G, B: value = byte * gain + bias
    private AreaResampler? _area; // the whole-frame shrink, where it serves (else OpenCV's INTER_AREA)
    private readonly bool _planar;
    private Mat? _roi;
    private OutputArray? _roiOut;
    private Mat? _lastFrame;
    private InputArray? _lastFrameIn;
    private int _frameWidth = -1, _frameHeight = -1;
    private (float ScaleX, float ScaleY, float PadX, float PadY) _fitted;
    private bool _cropped;

    /// <param name="width">Model input width in pixels.</param>
    /// <param name="height">Model input height in pixels.</param>
    /// <param name="scale">Multiplies each 0..255 channel value.</param>
    /// <param name="offset">Added after <paramref name="scale"/>: 1/127.5 and -1 give [-1, 1].</param>
    public Letterbox(int width, int height, float scale, float offset)
        : this(width, height, scale, [-offset, -offset, -offset], [1f, 1f, 1f], planar: false)
    {
    }

    /// <param name="width">Model input width in pixels.</param>
    /// <param name="height">Model input height in pixels.</param>
    /// <param name="scale">Multiplies each 0..255 channel value.</param>
    /// <param name="mean">Per channel (R, G, B), taken away after scaling.</param>
    /// <param name="std">Per channel (R, G, B), divides after the mean is taken away.</param>
    /// <param name="planar">NCHW (three planes) instead of NHWC (interleaved).</param>
    public Letterbox(int width, int height, float scale, float[] mean, float[] std, bool planar)
    {
        if (width <= 0 || height <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"model input size {width}x{height} must be positive");
        }

        if (mean.Length != 3 || std.Length != 3 || Array.Exists(std, s => !(s > 0)))
        {
            throw new ArgumentException("mean and std need three values each, std positive", nameof(std));
        }

        Width = width;
        Height = height;
        _planar = planar;
        _canvas = new Mat(height, width, MatType.CV_8UC3, Scalar.Black);
        _canvasOut = OutputArray.Create(_canvas);
        _affine = new Mat(2, 3, MatType.CV_64FC1, Scalar.All(0));
        _affineIn = InputArray.Create(_affine);
        for (int v = 0; v < 256; v++)
        {
            _lutR[v] = ((v * scale) - mean[0]) / std[0];
            _lutG[v] = ((v * scale) - mean[1]) / std[1];
            _lutB[v] = ((v * scale) - mean[2]) / std[2];
        }

        for (int c = 0; c < 3; c++)
        {
            _gain[c] = scale / std[c];
            _bias[c] = -mean[c] / std[c];
        }
    }

    /// <summary>Model input width.</summary>
    public int Width { get; }

    /// <summary>Model input height.</summary>
    public int Height { get; }

    /// <summary>Input pixels per frame pixel, horizontally.</summary>
    public float ScaleX { get; private set; }

    /// <summary>Input pixels per frame pixel, vertically (equal to <see cref="ScaleX"/> up to rounding).</summary>
    public float ScaleY { get; private set; }

    /// <summary>Left padding in input pixels.</summary>
    public float PadX { get; private set; }

    /// <summary>Top padding in input pixels.</summary>
    public float PadY { get; private set; }

    /// <summary>Maps an x in model-input pixels back to frame pixels.</summary>
    public float ToFrameX(float inputX) => (inputX - PadX) / ScaleX;

    /// <summary>Maps a y in model-input pixels back to frame pixels.</summary>
    public float ToFrameY(float inputY) => (inputY - PadY) / ScaleY;

    /// <summary>Letterboxes a BGR frame and writes RGB floats into <paramref name="values"/>
    /// (length Width*Height*3), interleaved or planar as constructed. A shrink is area-averaged
    /// (<see cref="AreaResampler"/>, or OpenCV's INTER_AREA where that does not serve).</summary>
    public unsafe void Run(Mat bgr, Span<float> values)
    {
        Check(bgr, values);
        if (bgr.Width != _frameWidth || bgr.Height != _frameHeight)
        {
            Fit(bgr.Width, bgr.Height);
        }
        else if (_cropped)
        {
            // A crop filled the whole canvas and moved the mapping: restore both.
            _canvas.SetTo(Scalar.Black);
            (ScaleX, ScaleY, PadX, PadY) = _fitted;
        }

        _cropped = false;
        if (_area is { } area)
        {
            fixed (float* canvas = values)
            {
                area.Run((byte*)bgr.DataPointer, bgr.Step(), canvas, Width, Height, (int)PadX, (int)PadY, _planar, _gain, _bias);
                Pad(canvas, area.Width, area.Height);
            }

            GC.KeepAlive(bgr);
            return;
        }

        // Cv2.Resize wraps its arguments in new InputArray/OutputArray objects on every call; the
        // native entry point with wrappers cached per Mat allocates nothing.
        OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.imgproc_resize(
            FrameInput(bgr).CvPtr, _roiOut!.CvPtr, _roi!.Size(), 0, 0, (int)InterpolationFlags.Area));
        GC.KeepAlive(bgr);
        WriteValues(values);
    }

    /// <summary>
    /// Writes the square of side <paramref name="side"/> frame pixels centred on
    /// (<paramref name="centreX"/>, <paramref name="centreY"/>) into the input, scaled to fit and
    /// centred; what lies outside the frame is black. <see cref="ToFrameX"/> and
    /// <see cref="ToFrameY"/> then map back from this crop.
    /// </summary>
    public unsafe void RunCrop(Mat bgr, float centreX, float centreY, float side, Span<float> values)
    {
        Check(bgr, values);
        if (!(side >= 1) || !float.IsFinite(centreX) || !float.IsFinite(centreY))
        {
            throw new ArgumentException($"crop of side {side} at ({centreX}, {centreY}) is not a region", nameof(side));
        }

        float scale = Math.Min(Width, Height) / side;
        ScaleX = ScaleY = scale;
        PadX = (Width / 2f) - (scale * centreX);
        PadY = (Height / 2f) - (scale * centreY);
        double* m = (double*)_affine.DataPointer;
        m[0] = scale;
        m[1] = 0;
        m[2] = PadX;
        m[3] = 0;
        m[4] = scale;
        m[5] = PadY;
        _cropped = true;
        OpenCvSharp.Internal.NativeMethods.HandleException(OpenCvSharp.Internal.NativeMethods.imgproc_warpAffine(
            FrameInput(bgr).CvPtr, _canvasOut.CvPtr, _affineIn.CvPtr, new Size(Width, Height), (int)InterpolationFlags.Linear, (int)BorderTypes.Constant, Scalar.Black));
        GC.KeepAlive(bgr);
        WriteValues(values);
    }

    /// <summary>Writes black (normalised) around the <paramref name="width"/> x
    /// <paramref name="height"/> image placed at (PadX, PadY).</summary>
    private unsafe void Pad(float* canvas, int width, int height)
    {
        int left = (int)PadX, top = (int)PadY, right = left + width, bottom = top + height;
        int plane = Width * Height;
        for (int y = 0; y < Height; y++)
        {
            bool inside = y >= top && y < bottom;
            for (int x = 0; x < Width; x++)
            {
                if (inside && x == left)
                {
                    x = right - 1; // skip the image's row
                    continue;
                }

                int at = (y * Width) + x;
                if (_planar)
                {
                    canvas[at] = _bias[0];
                    canvas[at + plane] = _bias[1];
                    canvas[at + (2 * plane)] = _bias[2];
                }
                else
                {
                    canvas[at * 3] = _bias[0];
                    canvas[(at * 3) + 1] = _bias[1];
                    canvas[(at * 3) + 2] = _bias[2];
                }
            }
        }
    }

    private void Check(Mat bgr, Span<float> values)
    {
        if (bgr.Empty() || bgr.Type() != MatType.CV_8UC3)
        {
            throw new ArgumentException($"expected a non-empty 8-bit BGR frame, got {bgr.Type()} {bgr.Width}x{bgr.Height}", nameof(bgr));
        }

        if (values.Length != Width * Height * 3)
        {
            throw new ArgumentException($"input buffer holds {values.Length} floats, the model needs {Width * Height * 3}", nameof(values));
        }
    }

    private InputArray FrameInput(Mat bgr)
    {
        if (!ReferenceEquals(bgr, _lastFrame))
        {
            _lastFrameIn?.Dispose();
            _lastFrameIn = InputArray.Create(bgr);
            _lastFrame = bgr;
        }

        return _lastFrameIn!;
    }

    private unsafe void WriteValues(Span<float> values)
    {
        byte* src = (byte*)_canvas.DataPointer;
        int pixels = Width * Height;
        fixed (float* dst = values)
        fixed (float* lr = _lutR)
        fixed (float* lg = _lutG)
        fixed (float* lb = _lutB)
        {
            if (_planar)
            {
                float* r = dst, g = dst + pixels, b = dst + (2 * pixels);
                for (int i = 0, j = 0; i < pixels; i++, j += 3)
                {
                    r[i] = lr[src[j + 2]];
                    g[i] = lg[src[j + 1]];
                    b[i] = lb[src[j]];
                }
            }
            else
            {
                for (int i = 0, j = 0; i < pixels; i++, j += 3)
                {
                    dst[j] = lr[src[j + 2]];
                    dst[j + 1] = lg[src[j + 1]];
                    dst[j + 2] = lb[src[j]];
                }
            }
        }
    }

    public void Dispose()
    {
        _lastFrameIn?.Dispose();
        _canvasOut.Dispose();
        _affineIn.Dispose();
        _affine.Dispose();
        _roiOut?.Dispose();
        _roi?.Dispose();
        _canvas.Dispose();
    }

    private void Fit(int frameWidth, int frameHeight)
    {
        (int w, int h, float scaleX, float scaleY, int x, int y) = Contract.InputTransform.Fit(frameWidth, frameHeight, Width, Height);
        ScaleX = scaleX;
        ScaleY = scaleY;
        PadX = x;
        PadY = y;
        _canvas.SetTo(Scalar.Black);
        _roiOut?.Dispose();
        _roi?.Dispose();
        _roi = new Mat(_canvas, new Rect(x, y, w, h));
        _roiOut = OutputArray.Create(_roi);
        _area = AreaResampler.Serves(frameWidth, frameHeight, w, h) ? new AreaResampler(frameWidth, frameHeight, w, h) : null;
        _frameWidth = frameWidth;
        _frameHeight = frameHeight;
        _fitted = (ScaleX, ScaleY, PadX, PadY);
    }
}
