using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Models;
using HeadTracking.Runtime.Pose;
using HeadTracking.Runtime.Preprocessing;
using Microsoft.ML.OnnxRuntime;
using OpenCvSharp;

namespace HeadTracking.Runtime.Inference;

/// <summary>
/// What a HeadTracker model said about one frame, in frame pixels, in buffers allocated once and
/// refilled each frame. A head the model does not have leaves its Has... flag false.
/// </summary>
internal sealed class HeadOutputs
{
    public bool HasCenter { get; internal set; }

    public float CenterX { get; internal set; }

    public float CenterY { get; internal set; }

    /// <summary>(x, y) per keypoint; empty when the model has no keypoint head.</summary>
    public float[] Keypoints { get; internal set; } = [];

    public bool HasBox { get; internal set; }

    /// <summary>x0, y0, x1, y1.</summary>
    public float[] Box { get; } = new float[4];

    /// <summary>Face probability from the box head.</summary>
    public float Score { get; internal set; }

    public bool HasPose { get; internal set; }

    /// <summary>Degrees, see <see cref="Rotation"/> for the convention.</summary>
    public double Yaw { get; internal set; }

    public double Pitch { get; internal set; }

    public double Roll { get; internal set; }

    /// <summary>Row-major rotation matrix.</summary>
    public float[] RotationMatrix { get; } = new float[9];

    /// <summary>True when <see cref="RotationMatrix"/> (and yaw, pitch, roll) are relative to the
    /// ray through the head centre (the manifest's pose frame "ray"): the camera's rotation is
    /// Rotation.RayToCamera of it with that ray, which the tracker applies once it knows the centre.</summary>
    public bool PoseRelativeToRay { get; internal set; }

    /// <summary>Head mask over the model input (255 = head), <see cref="MaskWidth"/> x <see cref="MaskHeight"/>; empty without a mask head.</summary>
    public byte[] Mask { get; internal set; } = [];

    public int MaskWidth { get; internal set; }

    public int MaskHeight { get; internal set; }

    /// <summary>Where the mask lies in the frame: x0, y0, x1, y1 in frame pixels (the model
    /// input's corners; beyond the frame where the input was padded).</summary>
    public float[] MaskRegion { get; } = new float[4];
}

/// <summary>
/// Runs a HeadTracker ONNX model as its manifest describes it: letterbox and normalisation into a
/// preallocated input, ONNX Runtime through a bound IoBinding, and each head decoded into
/// <see cref="HeadOutputs"/> in frame pixels. Nothing about the model is hard-coded and nothing is
/// allocated per frame. Not thread-safe: one per worker thread.
/// </summary>
internal sealed class HeadModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtIoBinding _binding;
    private readonly Letterbox _letterbox;
    private readonly float[] _input;
    private readonly OrtValue _inputValue;
    private readonly (ManifestOutput Spec, float[] Data, OrtValue Value)[] _outputs;
    private readonly int _width, _height;

    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">Not loadable, no manifest, or a manifest that does not
    /// match the graph; the message names the file and the field.</exception>
    /// <param name="path">A HeadTracker ONNX model.</param>
    /// <param name="intraOpThreads">ONNX Runtime threads inside one inference.</param>
    /// <param name="providers">Execution providers to try in order ("cuda", "directml", "coreml");
    /// the first this build of ONNX Runtime has is used, the CPU otherwise.</param>
    public HeadModel(string path, int intraOpThreads = 1, IReadOnlyList<string>? providers = null)
    {
        string provider = "CPU";
        _session = OnnxSessions.Open(path, intraOpThreads, options => provider = ChooseProvider(options, providers ?? []));
        ExecutionProvider = provider;

        try
        {
            if (!_session.ModelMetadata.CustomMetadataMap.TryGetValue(ModelManifest.MetadataKey, out string? json))
            {
                throw new InvalidDataException($"{path}: no '{ModelManifest.MetadataKey}' metadata; export the model with headtracker-train");
            }

            try
            {
                Manifest = ModelManifest.FromJson(json);
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{path}: {e.Message}", e);
            }

            ManifestInput input = Manifest.Input;
            if (input.Shape.Length != 4 || input.Layout is not ("NCHW" or "NHWC") || input.ColorOrder != "RGB")
            {
                throw new InvalidDataException($"{path}: manifest input: expected a 4-d RGB NCHW or NHWC tensor, got [{string.Join(",", input.Shape)}] {input.Layout} {input.ColorOrder}");
            }

            if (input.Resize != InputTransform.Letterbox)
            {
                throw new InvalidDataException($"{path}: manifest input.resize is '{input.Resize}'; the runtime prepares frames by '{InputTransform.Letterbox}' only");
            }

            if (input.Interpolation is { } interpolation && interpolation != InputTransform.Area)
            {
                throw new InvalidDataException($"{path}: manifest input.interpolation is '{interpolation}'; the runtime resamples by '{InputTransform.Area}' only");
            }

            foreach (ManifestOutput o in Manifest.Outputs)
            {
                CheckDecodable(path, o);
            }

            bool planar = input.Layout == "NCHW";
            _height = (int)(planar ? input.Shape[2] : input.Shape[1]);
            _width = (int)(planar ? input.Shape[3] : input.Shape[2]);
            _letterbox = new Letterbox(_width, _height, input.Scale, input.Mean, input.Std, planar);
            _input = new float[3 * _width * _height];
            _inputValue = OrtValue.CreateTensorValueFromMemory(_input, [1, .. input.Shape.Skip(1)]);
            _binding = _session.CreateIoBinding();
            _binding.BindInput(input.Name, _inputValue);
            var outputs = new List<(ManifestOutput, float[], OrtValue)>();
            foreach (ManifestOutput o in Manifest.Outputs)
            {
                if (!_session.OutputMetadata.ContainsKey(o.Name))
                {
                    throw new InvalidDataException($"{path}: manifest output '{o.Name}' is not an output of the graph");
                }

                long[] shape = [1, .. o.Shape.Skip(1)];
                var data = new float[shape.Aggregate(1L, (a, d) => a * d)];
                var value = OrtValue.CreateTensorValueFromMemory(data, shape);
                _binding.BindOutput(o.Name, value);
                outputs.Add((o, data, value));
            }

            _outputs = [.. outputs];
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public ModelManifest Manifest { get; }

    /// <summary>Refuses an output whose manifest says something the decoder would not honour:
    /// an activation other than the one it applies, a pose that is not a rotation matrix, a
    /// coordinate range other than the one it maps. Kinds the runtime does not decode pass.</summary>
    private static void CheckDecodable(string path, ManifestOutput o)
    {
        string[] activations = o.Kind switch
        {
            OutputKinds.Point or OutputKinds.Keypoints or OutputKinds.Pose => ["none"],
            OutputKinds.Box => ["sigmoid on score_logit"],
            OutputKinds.Mask => ["sigmoid", "softmax"],
            _ => [],
        };
        if (o.Activation != null && activations.Length > 0 && Array.IndexOf(activations, o.Activation) < 0)
        {
            throw new InvalidDataException($"{path}: manifest output '{o.Name}' ({o.Kind}): activation '{o.Activation}' is not one the runtime applies ({string.Join(" or ", activations)})");
        }

        if (o.Kind == OutputKinds.Pose && o.Representation is { } r && r != "rotation_matrix")
        {
            throw new InvalidDataException($"{path}: manifest output '{o.Name}' (pose): representation '{r}' is not 'rotation_matrix'");
        }

        // Points map -1 and 1 to the model input's edges (whatever range their values may take),
        // a box 0 and 1: what the decoder assumes, so other coordinate systems are refused.
        string coordinates = o.Kind == OutputKinds.Box ? "normalized [0,1]" : "normalized";
        if (o.Kind is OutputKinds.Point or OutputKinds.Keypoints or OutputKinds.Box && o.Coordinates is { } c && !c.StartsWith(coordinates, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"{path}: manifest output '{o.Name}' ({o.Kind}): coordinates '{c}' are not the runtime's ({(o.Kind == "box" ? "normalized [0,1]" : "normalized, -1 and 1 at the edges")} over the model input)");
        }

        if (o.Kind == OutputKinds.Mask && (o.Shape.Length != 4 || (o.Activation == "softmax") != (o.Shape[1] > 1)))
        {
            throw new InvalidDataException($"{path}: manifest output '{o.Name}' (mask): shape [{string.Join(",", o.Shape)}] with activation '{o.Activation}': expected [N,1,H,W] with sigmoid or [N,C,H,W] with softmax");
        }
    }

    /// <summary>The execution provider in use: "CUDA", "DirectML", "CoreML" or "CPU".</summary>
    public string ExecutionProvider { get; }

    /// <summary>Why preferred providers were passed over (empty when the first one worked).</summary>
    public string ProviderNotes { get; private set; } = "";

    private string ChooseProvider(SessionOptions options, IReadOnlyList<string> providers)
    {
        var notes = new List<string>();
        string chosen = "CPU";
        foreach (string provider in providers)
        {
            string? name = null;
            try
            {
                name = provider.ToLowerInvariant() switch
                {
                    "cuda" => Append(() => options.AppendExecutionProvider_CUDA(0), "CUDA"),
                    "directml" => Append(() => options.AppendExecutionProvider_DML(0), "DirectML"),
                    "coreml" => Append(() => options.AppendExecutionProvider_CoreML(CoreMLFlags.COREML_FLAG_USE_NONE), "CoreML"),
                    "cpu" => "CPU",
                    _ => null,
                };
                if (name == null)
                {
                    notes.Add($"{provider}: unknown execution provider");
                }
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or NotSupportedException or DllNotFoundException)
            {
                // This build of ONNX Runtime lacks it (the CPU package has none of them).
                notes.Add($"{provider}: {e.Message.Split('\n')[0]}");
            }

            if (name != null)
            {
                chosen = name;
                break;
            }
        }

        ProviderNotes = string.Join("; ", notes);
        return chosen;
    }

    private static string Append(Action append, string name)
    {
        append();
        return name;
    }

    /// <summary>Sets the stage ticks to zero (for a frame the model does not run on).</summary>
    public void ResetTicks() => PreprocessTicks = InferenceTicks = DecodeTicks = 0;

    /// <summary>Stopwatch ticks of the last <see cref="Run"/>: letterbox and normalise.</summary>
    public long PreprocessTicks { get; private set; }

    /// <summary>Stopwatch ticks of the last <see cref="Run"/> inside ONNX Runtime.</summary>
    public long InferenceTicks { get; private set; }

    /// <summary>Stopwatch ticks of the last <see cref="Run"/> decoding the heads.</summary>
    public long DecodeTicks { get; private set; }

    /// <summary>Runs the model on a BGR frame (letterboxed whole) and decodes every head into
    /// <paramref name="result"/>, in frame pixels.</summary>
    public void Run(Mat bgr, HeadOutputs result)
    {
        long t0 = Stopwatch.GetTimestamp();
        _letterbox.Run(bgr, _input);
        Infer(t0, result);
    }

    /// <summary>Runs the model on the square of side <paramref name="side"/> frame pixels
    /// centred on (<paramref name="centreX"/>, <paramref name="centreY"/>), black beyond the
    /// frame, and decodes every head into <paramref name="result"/> in frame pixels.</summary>
    public void RunCrop(Mat bgr, float centreX, float centreY, float side, HeadOutputs result)
    {
        long t0 = Stopwatch.GetTimestamp();
        _letterbox.RunCrop(bgr, centreX, centreY, side, _input);
        Infer(t0, result);
    }

    /// <summary>Decodes what the output tensors hold into <paramref name="result"/>.</summary>
    public void DecodeOutputs(HeadOutputs result)
    {
        foreach ((ManifestOutput spec, float[] data, _) in _outputs)
        {
            Decode(spec, data, result);
        }
    }

    /// <summary>The input tensor of the last run: what the model saw (for eval and parity tests).</summary>
    internal ReadOnlySpan<float> LastInput => _input;

    /// <summary>Output <paramref name="index"/> (manifest order) of the last run, before decoding.</summary>
    internal ReadOnlySpan<float> LastOutput(int index) => _outputs[index].Data;

    /// <summary>Only ONNX Runtime's run, on whatever the input tensor holds (the benchmark's floor).</summary>
    public void RunBare() => _session.RunWithBinding(_runOptions, _binding);

    private void Infer(long t0, HeadOutputs result)
    {
        long t1 = Stopwatch.GetTimestamp();
        _session.RunWithBinding(_runOptions, _binding);
        long t2 = Stopwatch.GetTimestamp();
        DecodeOutputs(result);
        long t3 = Stopwatch.GetTimestamp();
        PreprocessTicks = t1 - t0;
        InferenceTicks = t2 - t1;
        DecodeTicks = t3 - t2;
    }

    private void Decode(ManifestOutput spec, float[] o, HeadOutputs r)
    {
        switch (spec.Kind)
        {
            case OutputKinds.Point:
                r.HasCenter = true;
                r.CenterX = FrameX(o[0]);
                r.CenterY = FrameY(o[1]);
                break;
            case OutputKinds.Keypoints:
                if (r.Keypoints.Length != o.Length)
                {
                    r.Keypoints = new float[o.Length]; // once, on the first frame
                }

                for (int i = 0; i < o.Length; i += 2)
                {
                    r.Keypoints[i] = FrameX(o[i]);
                    r.Keypoints[i + 1] = FrameY(o[i + 1]);
                }

                break;
            case OutputKinds.Box:
                r.HasBox = true;
                r.Box[0] = _letterbox.ToFrameX(o[0] * _width);
                r.Box[1] = _letterbox.ToFrameY(o[1] * _height);
                r.Box[2] = _letterbox.ToFrameX(o[2] * _width);
                r.Box[3] = _letterbox.ToFrameY(o[3] * _height);
                r.Score = 1f / (1f + MathF.Exp(-o[4]));
                break;
            case OutputKinds.Pose:
                r.HasPose = true;
                r.PoseRelativeToRay = spec.Frame == "ray";
                Array.Copy(o, r.RotationMatrix, 9);
                (r.Yaw, r.Pitch, r.Roll) = Rotation.ToEuler(r.RotationMatrix.AsSpan());
                break;
            case OutputKinds.Mask:
                int maskWidth = (int)spec.Shape[^1], maskHeight = (int)spec.Shape[^2], plane = maskWidth * maskHeight;
                if (r.Mask.Length != plane)
                {
                    r.Mask = new byte[plane]; // once, on the first frame
                    r.MaskWidth = maskWidth;
                    r.MaskHeight = maskHeight;
                }

                if (o.Length == plane)
                {
                    for (int i = 0; i < plane; i++)
                    {
                        r.Mask[i] = o[i] > 0 ? (byte)255 : (byte)0; // logit > 0: probability > 0.5
                    }
                }
                else
                {
                    // Softmax over C classes, channel 0 the background: a pixel is the head's when
                    // another class's logit beats the background's.
                    int classes = o.Length / plane;
                    for (int i = 0; i < plane; i++)
                    {
                        float background = o[i];
                        bool head = false;
                        for (int k = 1; k < classes && !head; k++)
                        {
                            head = o[(k * plane) + i] > background;
                        }

                        r.Mask[i] = head ? (byte)255 : (byte)0;
                    }
                }

                r.MaskRegion[0] = _letterbox.ToFrameX(0);
                r.MaskRegion[1] = _letterbox.ToFrameY(0);
                r.MaskRegion[2] = _letterbox.ToFrameX(_width);
                r.MaskRegion[3] = _letterbox.ToFrameY(_height);

                break;
        }
    }

    /// <summary>[-1, 1] over the model input to frame pixels.</summary>
    private float FrameX(float v) => _letterbox.ToFrameX((v + 1) * 0.5f * _width);

    private float FrameY(float v) => _letterbox.ToFrameY((v + 1) * 0.5f * _height);

    public void Dispose()
    {
        foreach ((_, _, OrtValue value) in _outputs)
        {
            value.Dispose();
        }

        _inputValue.Dispose();
        _binding.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _letterbox.Dispose();
    }
}
