using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Preprocessing;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace HeadTracking.Runtime.Detection;

/// <summary>
/// MediaPipe's front-camera BlazeFace (128x128, NHWC, RGB in [-1, 1]) through ONNX Runtime, with
/// MediaPipe's anchor decoding and weighted non-maximum suppression. All buffers and OrtValues are
/// allocated in the constructor. Not thread-safe: one instance per worker thread.
/// </summary>
internal sealed class BlazeFaceDetector : IDisposable
{
    public const int InputSize = 128;
    private const int Coords = 16;
    private const int AnchorCount = 896;
    private const float ScoreClip = 100f;

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly Letterbox _letterbox = new(InputSize, InputSize, 1f / 127.5f, -1f);
    private readonly float[] _input = new float[InputSize * InputSize * 3];
    private readonly float[] _scoresHigh = new float[512], _scoresLow = new float[384];
    private readonly float[] _boxesHigh = new float[512 * Coords], _boxesLow = new float[384 * Coords];
    private readonly OrtValue[] _inputs, _outputs;
    private readonly OrtIoBinding _binding;
    private readonly float[] _anchors = Anchors();

    // Candidates above the score threshold, decoded to input-normalised coordinates.
    private readonly float[] _candidates = new float[AnchorCount * Coords];
    private readonly float[] _candidateScores = new float[AnchorCount];
    private readonly float[] _sortKeys = new float[AnchorCount];
    private readonly int[] _order = new int[AnchorCount];
    private readonly bool[] _taken = new bool[AnchorCount];
    private readonly float[] _merged = new float[Coords];

    /// <param name="modelPath">face_detection_front_128x128 as ONNX.</param>
    /// <param name="intraOpThreads">ONNX Runtime threads inside one inference (games want 1).</param>
    /// <param name="minScore">Faces below this probability are dropped (MediaPipe: 0.5).</param>
    /// <param name="nmsIou">Overlap above which detections merge (MediaPipe: 0.3).</param>
    /// <exception cref="FileNotFoundException">No file at <paramref name="modelPath"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not a BlazeFace-shaped ONNX model; the
    /// message names the file and what is wrong.</exception>
    public BlazeFaceDetector(string modelPath, int intraOpThreads = 1, float minScore = 0.5f, float nmsIou = 0.3f)
    {
        MinScore = minScore;
        NmsIou = nmsIou;
        _session = Inference.OnnxSessions.Open(modelPath, intraOpThreads);

        string[] inputNames, outputNames;
        try
        {
            (inputNames, outputNames) = Bind(modelPath, _session);
        }
        catch
        {
            _session.Dispose();
            throw;
        }

        _inputs = [OrtValue.CreateTensorValueFromMemory(_input, [1, InputSize, InputSize, 3])];
        _outputs =
        [
            OrtValue.CreateTensorValueFromMemory(_scoresHigh, [1, 512, 1]),
            OrtValue.CreateTensorValueFromMemory(_scoresLow, [1, 384, 1]),
            OrtValue.CreateTensorValueFromMemory(_boxesHigh, [1, 512, Coords]),
            OrtValue.CreateTensorValueFromMemory(_boxesLow, [1, 384, Coords]),
        ];

        // Bound once: Run with an IoBinding allocates nothing per frame, the name-based Run does.
        _binding = _session.CreateIoBinding();
        _binding.BindInput(inputNames[0], _inputs[0]);
        for (int i = 0; i < _outputs.Length; i++)
        {
            _binding.BindOutput(outputNames[i], _outputs[i]);
        }
    }

    public float MinScore { get; }

    public float NmsIou { get; }

    /// <summary>Stopwatch ticks spent by the last <see cref="Detect"/> in letterbox + normalise.</summary>
    public long PreprocessTicks { get; private set; }

    /// <summary>Stopwatch ticks spent by the last <see cref="Detect"/> in ONNX Runtime.</summary>
    public long InferenceTicks { get; private set; }

    /// <summary>Stopwatch ticks spent by the last <see cref="Detect"/> decoding anchors and NMS.</summary>
    public long DecodeTicks { get; private set; }

    /// <summary>Finds faces in a BGR frame and writes them, best first, into <paramref name="result"/>.</summary>
    public void Detect(Mat bgr, FaceDetections result)
    {
        long t0 = Stopwatch.GetTimestamp();
        _letterbox.Run(bgr, _input);
        long t1 = Stopwatch.GetTimestamp();
        _session.RunWithBinding(_runOptions, _binding);
        long t2 = Stopwatch.GetTimestamp();
        int count = DecodeCandidates();
        WeightedNms(count, result);
        long t3 = Stopwatch.GetTimestamp();
        PreprocessTicks = t1 - t0;
        InferenceTicks = t2 - t1;
        DecodeTicks = t3 - t2;
    }

    public void Dispose()
    {
        foreach (OrtValue v in _inputs.Concat(_outputs))
        {
            v.Dispose();
        }

        _binding.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _letterbox.Dispose();
    }

    /// <summary>Checks the model's contract and returns its input name and output names in the
    /// order: scores 512, scores 384, regressors 512, regressors 384.</summary>
    private static (string[] Inputs, string[] Outputs) Bind(string path, InferenceSession session)
    {
        if (session.InputMetadata.Count != 1)
        {
            throw new InvalidDataException($"{path}: expected one input, found {session.InputMetadata.Count}");
        }

        KeyValuePair<string, NodeMetadata> input = session.InputMetadata.First();
        int[] dims = input.Value.Dimensions;
        if (dims.Length != 4 || dims[1] != InputSize || dims[2] != InputSize || dims[3] != 3)
        {
            throw new InvalidDataException($"{path}: input '{input.Key}' has shape [{string.Join(",", dims)}], expected [1,{InputSize},{InputSize},3] (NHWC)");
        }

        string Find(int anchors, int width)
        {
            foreach (KeyValuePair<string, NodeMetadata> o in session.OutputMetadata)
            {
                int[] d = o.Value.Dimensions;
                if (d.Length == 3 && d[1] == anchors && d[2] == width)
                {
                    return o.Key;
                }
            }

            throw new InvalidDataException($"{path}: no output of shape [1,{anchors},{width}]; outputs are " +
                string.Join(", ", session.OutputMetadata.Select(o => $"{o.Key} [{string.Join(",", o.Value.Dimensions)}]")));
        }

        return ([input.Key], [Find(512, 1), Find(384, 1), Find(512, Coords), Find(384, Coords)]);
    }

    /// <summary>MediaPipe's SSD anchors for the front model, as (x_centre, y_centre) in [0, 1]:
    /// 16x16 cells with 2 anchors (stride 8), then 8x8 cells with 6 anchors (strides 16, 16, 16).
    /// Anchor width and height are fixed at 1.</summary>
    private static float[] Anchors()
    {
        var anchors = new float[AnchorCount * 2];
        int k = 0;
        foreach ((int grid, int perCell) in new[] { (16, 2), (8, 6) })
        {
            for (int y = 0; y < grid; y++)
            {
                for (int x = 0; x < grid; x++)
                {
                    for (int a = 0; a < perCell; a++)
                    {
                        anchors[k++] = (x + 0.5f) / grid;
                        anchors[k++] = (y + 0.5f) / grid;
                    }
                }
            }
        }

        return anchors;
    }

    private int DecodeCandidates()
    {
        int count = 0;
        for (int i = 0; i < AnchorCount; i++)
        {
            bool high = i < 512;
            float logit = high ? _scoresHigh[i] : _scoresLow[i - 512];
            logit = Math.Max(-ScoreClip, Math.Min(ScoreClip, logit));
            float score = 1f / (1f + MathF.Exp(-logit));
            if (!(score >= MinScore))
            {
                continue; // also drops NaN
            }

            float[] raw = high ? _boxesHigh : _boxesLow;
            int r = (high ? i : i - 512) * Coords;
            float ax = _anchors[i * 2], ay = _anchors[(i * 2) + 1];
            int c = count * Coords;
            float cx = (raw[r] / InputSize) + ax, cy = (raw[r + 1] / InputSize) + ay;
            float w = raw[r + 2] / InputSize, h = raw[r + 3] / InputSize;
            _candidates[c] = cx - (w / 2);
            _candidates[c + 1] = cy - (h / 2);
            _candidates[c + 2] = cx + (w / 2);
            _candidates[c + 3] = cy + (h / 2);
            for (int p = 4; p < Coords; p += 2)
            {
                _candidates[c + p] = (raw[r + p] / InputSize) + ax;
                _candidates[c + p + 1] = (raw[r + p + 1] / InputSize) + ay;
            }

            _candidateScores[count] = score;
            _sortKeys[count] = -score;
            _order[count] = count;
            count++;
        }

        return count;
    }

    /// <summary>MediaPipe's weighted NMS: each cluster of boxes overlapping the best remaining one
    /// by more than <see cref="NmsIou"/> becomes one detection, its coordinates the score-weighted
    /// mean of the cluster, its score the best one's.</summary>
    private void WeightedNms(int count, FaceDetections result)
    {
        Array.Sort(_sortKeys, _order, 0, count);
        Array.Clear(_taken, 0, count);
        int faces = 0;
        for (int oi = 0; oi < count && faces < result.Capacity; oi++)
        {
            int best = _order[oi];
            if (_taken[best])
            {
                continue;
            }

            Array.Clear(_merged, 0, Coords);
            float weight = 0;
            for (int oj = oi; oj < count; oj++)
            {
                int other = _order[oj];
                if (_taken[other] || Iou(best, other) <= NmsIou)
                {
                    continue;
                }

                _taken[other] = true;
                float s = _candidateScores[other];
                weight += s;
                for (int p = 0; p < Coords; p++)
                {
                    _merged[p] += _candidates[(other * Coords) + p] * s;
                }
            }

            // Back from normalised input coordinates to frame pixels.
            int b = faces * 4;
            result.Boxes[b] = _letterbox.ToFrameX(_merged[0] / weight * InputSize);
            result.Boxes[b + 1] = _letterbox.ToFrameY(_merged[1] / weight * InputSize);
            result.Boxes[b + 2] = _letterbox.ToFrameX(_merged[2] / weight * InputSize);
            result.Boxes[b + 3] = _letterbox.ToFrameY(_merged[3] / weight * InputSize);
            int k = faces * FaceDetections.KeypointCount * 2;
            for (int p = 0; p < FaceDetections.KeypointCount; p++)
            {
                result.Keypoints[k + (p * 2)] = _letterbox.ToFrameX(_merged[4 + (p * 2)] / weight * InputSize);
                result.Keypoints[k + (p * 2) + 1] = _letterbox.ToFrameY(_merged[5 + (p * 2)] / weight * InputSize);
            }

            result.Scores[faces] = _candidateScores[best];
            faces++;
        }

        result.Count = faces;
    }

    private float Iou(int a, int b)
    {
        int ia = a * Coords, ib = b * Coords;
        float ix = Math.Min(_candidates[ia + 2], _candidates[ib + 2]) - Math.Max(_candidates[ia], _candidates[ib]);
        float iy = Math.Min(_candidates[ia + 3], _candidates[ib + 3]) - Math.Max(_candidates[ia + 1], _candidates[ib + 1]);
        if (ix <= 0 || iy <= 0)
        {
            return a == b ? 1f : 0f;
        }

        float inter = ix * iy;
        float areaA = (_candidates[ia + 2] - _candidates[ia]) * (_candidates[ia + 3] - _candidates[ia + 1]);
        float areaB = (_candidates[ib + 2] - _candidates[ib]) * (_candidates[ib + 3] - _candidates[ib + 1]);
        return inter / (areaA + areaB - inter);
    }
}
