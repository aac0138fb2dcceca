using System;
using System.Numerics;

namespace HeadTracking.Runtime.Preprocessing;

/// <summary>
/// Shrinks an 8-bit BGR image by area averaging straight into normalised float RGB, in one pass
/// over the source: each output pixel is the mean of the source area it covers, partly covered
/// source pixels weighted by their share. These are the sums of OpenCV's <c>INTER_AREA</c> for a
/// downscale, without its rounding to 8 bits in between and without a second pass through an
/// 8-bit canvas. Rows are summed first, with SIMD (<see cref="Vector{T}"/>), then columns.
/// Built for one source and destination size; allocates nothing per call. Not thread-safe.
/// </summary>
internal sealed class AreaResampler
{
    private readonly Taps _x, _y;
    private readonly float[] _rowSums; // one output row's weighted sum of source rows, B G R interleaved
    private readonly ushort[] _rowCounts; // the integer sum of its wholly covered source rows

    /// <summary>Whether this class serves a <paramref name="sourceWidth"/> x
    /// <paramref name="sourceHeight"/> to <paramref name="width"/> x <paramref name="height"/>
    /// resize here: a shrink (or same size) on both axes, on a runtime whose SIMD vectors are
    /// hardware accelerated (where <see cref="Vector{T}"/> is emulated, OpenCV's resize is kept).</summary>
    public static bool Serves(int sourceWidth, int sourceHeight, int width, int height) =>
        Vector.IsHardwareAccelerated && width <= sourceWidth && height <= sourceHeight && width > 0 && height > 0;

    public AreaResampler(int sourceWidth, int sourceHeight, int width, int height)
    {
        if (!(width > 0 && height > 0 && width <= sourceWidth && height <= sourceHeight))
        {
            throw new ArgumentException($"area resampling shrinks: {sourceWidth}x{sourceHeight} to {width}x{height} is not a shrink");
        }

        SourceWidth = sourceWidth;
        SourceHeight = sourceHeight;
        Width = width;
        Height = height;
        _x = new Taps(sourceWidth, width);
        _y = new Taps(sourceHeight, height);
        _rowSums = new float[sourceWidth * 3];
        _rowCounts = new ushort[sourceWidth * 3];
        if (_y.MaxCount > 257)
        {
            throw new ArgumentException($"area resampling: a {sourceHeight / height}x shrink of rows would overflow 16-bit sums");
        }
    }

    public int SourceWidth { get; }

    public int SourceHeight { get; }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Writes the shrunk image into a float canvas as RGB; what lies around it is left alone.</summary>
    /// <param name="source">The first source row's first byte (B of pixel 0).</param>
    /// <param name="sourceStep">Bytes from one source row to the next.</param>
    /// <param name="canvas">The destination: canvasWidth x canvasHeight pixels.</param>
    /// <param name="canvasWidth">The destination's width in pixels.</param>
    /// <param name="canvasHeight">The destination's height in pixels.</param>
    /// <param name="left">Where the image's first column goes.</param>
    /// <param name="top">Where the image's first row goes.</param>
    /// <param name="planar">Three planes of canvasWidth x canvasHeight (NCHW) instead of interleaved RGB.</param>
    /// <param name="gain">Per channel (R, G, B): the value written is mean * gain + bias.</param>
    /// <param name="bias">Per channel (R, G, B), added after the gain.</param>
    public unsafe void Run(byte* source, long sourceStep, float* canvas, int canvasWidth, int canvasHeight, int left, int top, bool planar,
        float[] gain, float[] bias)
    {
        if (left < 0 || top < 0 || left + Width > canvasWidth || top + Height > canvasHeight)
        {
            throw new ArgumentException($"a {Width}x{Height} image at ({left}, {top}) does not fit a {canvasWidth}x{canvasHeight} canvas");
        }

        float gr = gain[0], gg = gain[1], gb = gain[2], br = bias[0], bg = bias[1], bb = bias[2];
        int rowFloats = SourceWidth * 3;
        int plane = canvasWidth * canvasHeight;
        fixed (float* sums = _rowSums)
        fixed (ushort* counts = _rowCounts)
        fixed (bool* yFull = _y.Full)
        fixed (int* yFirst = _y.First, yCount = _y.Count, xFirst = _x.First, xCount = _x.Count)
        fixed (float* yWeight = _y.Weights, xWeight = _x.Weights)
        {
            int yTap = 0;
            for (int oy = 0; oy < Height; oy++)
            {
                // Rows wholly inside the output row share one weight: their bytes are summed as
                // integers and turned into floats once; only the partly covered rows at its edges
                // (none for a whole-number shrink) go through floats one by one.
                bool counted = false, summed = false;
                float fullWeight = 0;
                for (int t = 0; t < yCount[oy]; t++, yTap++)
                {
                    byte* row = source + ((yFirst[oy] + t) * sourceStep);
                    if (yFull[yTap])
                    {
                        CountRow(row, counts, rowFloats, !counted);
                        counted = true;
                        fullWeight = yWeight[yTap];
                    }
                    else
                    {
                        AddRow(row, sums, rowFloats, yWeight[yTap], !summed);
                        summed = true;
                    }
                }

                if (counted)
                {
                    AddCounts(counts, sums, rowFloats, fullWeight, !summed);
                }

                int xTap = 0;
                int at = ((top + oy) * canvasWidth) + left;
                for (int ox = 0; ox < Width; ox++, at++)
                {
                    float b = 0, g = 0, r = 0;
                    float* p = sums + (xFirst[ox] * 3);
                    for (int t = xCount[ox]; t > 0; t--, xTap++, p += 3)
                    {
                        float w = xWeight[xTap];
                        b += w * p[0];
                        g += w * p[1];
                        r += w * p[2];
                    }

                    if (planar)
                    {
                        canvas[at] = (r * gr) + br;
                        canvas[at + plane] = (g * gg) + bg;
                        canvas[at + (2 * plane)] = (b * gb) + bb;
                    }
                    else
                    {
                        float* o = canvas + (at * 3);
                        o[0] = (r * gr) + br;
                        o[1] = (g * gg) + bg;
                        o[2] = (b * gb) + bb;
                    }
                }
            }
        }
    }

    /// <summary>sums[i] (+)= weight * row[i] for i below <paramref name="count"/>: set when
    /// <paramref name="first"/>, else added.</summary>
    private static unsafe void AddRow(byte* row, float* sums, int count, float weight, bool first)
    {
        int i = 0;
        int step = Vector<byte>.Count, floats = Vector<float>.Count;
        var w = new Vector<float>(weight);
        for (; i <= count - step; i += step)
        {
            Vector.Widen(*(Vector<byte>*)(row + i), out Vector<ushort> low, out Vector<ushort> high);
            Vector.Widen(low, out Vector<uint> a, out Vector<uint> b);
            Vector.Widen(high, out Vector<uint> c, out Vector<uint> d);
            Accumulate((Vector<float>*)(sums + i), w * Vector.ConvertToSingle(Vector.AsVectorInt32(a)), first);
            Accumulate((Vector<float>*)(sums + i + floats), w * Vector.ConvertToSingle(Vector.AsVectorInt32(b)), first);
            Accumulate((Vector<float>*)(sums + i + (2 * floats)), w * Vector.ConvertToSingle(Vector.AsVectorInt32(c)), first);
            Accumulate((Vector<float>*)(sums + i + (3 * floats)), w * Vector.ConvertToSingle(Vector.AsVectorInt32(d)), first);
        }

        for (; i < count; i++)
        {
            sums[i] = (first ? 0 : sums[i]) + (weight * row[i]);
        }
    }

    private static unsafe void Accumulate(Vector<float>* into, Vector<float> value, bool first) =>
        *into = first ? value : *into + value;

    /// <summary>counts[i] (+)= row[i] for i below <paramref name="count"/>: set when
    /// <paramref name="first"/>, else added.</summary>
    private static unsafe void CountRow(byte* row, ushort* counts, int count, bool first)
    {
        int i = 0;
        int step = Vector<byte>.Count, shorts = Vector<ushort>.Count;
        for (; i <= count - step; i += step)
        {
            Vector.Widen(*(Vector<byte>*)(row + i), out Vector<ushort> low, out Vector<ushort> high);
            var a = (Vector<ushort>*)(counts + i);
            var b = (Vector<ushort>*)(counts + i + shorts);
            *a = first ? low : *a + low;
            *b = first ? high : *b + high;
        }

        for (; i < count; i++)
        {
            counts[i] = (ushort)((first ? 0 : counts[i]) + row[i]);
        }
    }

    /// <summary>sums[i] (+)= weight * counts[i] for i below <paramref name="count"/>.</summary>
    private static unsafe void AddCounts(ushort* counts, float* sums, int count, float weight, bool first)
    {
        int i = 0;
        int step = Vector<ushort>.Count, floats = Vector<float>.Count;
        var w = new Vector<float>(weight);
        for (; i <= count - step; i += step)
        {
            Vector.Widen(*(Vector<ushort>*)(counts + i), out Vector<uint> a, out Vector<uint> b);
            Accumulate((Vector<float>*)(sums + i), w * Vector.ConvertToSingle(Vector.AsVectorInt32(a)), first);
            Accumulate((Vector<float>*)(sums + i + floats), w * Vector.ConvertToSingle(Vector.AsVectorInt32(b)), first);
        }

        for (; i < count; i++)
        {
            sums[i] = (first ? 0 : sums[i]) + (weight * counts[i]);
        }
    }

    /// <summary>For each output index along one axis: the first source index it covers, how many,
    /// and each one's share of the output pixel (its covered length over the scale; they sum to 1).</summary>
    private sealed class Taps
    {
        public Taps(int source, int size)
        {
            double scale = (double)source / size;
            First = new int[size];
            Count = new int[size];
            var weights = new System.Collections.Generic.List<float>();
            var full = new System.Collections.Generic.List<bool>();
            for (int i = 0; i < size; i++)
            {
                double from = i * scale, to = Math.Min(source, (i + 1) * scale);
                int k0 = (int)Math.Floor(from), k1 = Math.Min(source, (int)Math.Ceiling(to));
                First[i] = k0;
                for (int k = k0; k < k1; k++)
                {
                    double covered = Math.Min(k + 1, to) - Math.Max(k, from);
                    weights.Add((float)(covered / (to - from)));
                    full.Add(covered > 1 - 1e-9);
                    Count[i]++;
                }

                MaxCount = Math.Max(MaxCount, Count[i]);
            }

            Weights = weights.ToArray();
            Full = full.ToArray();
        }

        /// <summary>Per tap: whether it covers its source pixel wholly (then its weight is the
        /// output's whole-pixel weight).</summary>
        public bool[] Full { get; }

        public int MaxCount { get; }

        public int[] First { get; }

        public int[] Count { get; }

        public float[] Weights { get; }
    }
}
