using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using HeadTracking.Runtime.Contract;
using HeadTracking.Trainer.Data;
using HeadTracking.Trainer.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Models.Heads.Kinds;
using OpenCvSharp;

namespace HeadTracking.Trainer.Training;

/// <summary>
/// One batch as flat arrays, in the model's input layout and each head's target layout, with a
/// weight per sample and head (0 where the sample lacks that label, so mixed data sets train
/// every head on the samples that have its label).
/// </summary>
internal sealed class Batch
{
    public Batch(int count, int size, int keypoints, int classes, int values = 0)
    {
        Values = new float[count * values];
        ValueWeight = new float[count];
        Count = count;
        Size = size;
        Images = new float[count * 3 * size * size];
        Center = new float[count * 2];
        CenterWeight = new float[count];
        Keypoints = new float[count * keypoints * 2];
        KeypointWeight = new float[count * keypoints];
        Box = new float[count * 4];
        BoxWeight = new float[count];
        Rotation = new float[count * 9];
        RayRotation = new float[count * 9];
        Ray = new float[count * 2];
        PoseWeight = new float[count];
        Mask = new float[count * size * size];
        MaskWeight = new float[count];
        ClassTargets = new float[count * Math.Max(1, classes)];
        ClassWeight = new float[count];
        Labels = new HeadLabel[count];
        HeadsOnly = new bool[count];
    }

    /// <summary>[B]: the items whose losses train the heads only (<see cref="DataItem.HeadsOnly"/>).</summary>
    public bool[] HeadsOnly { get; }

    public int Count { get; }

    public int Size { get; }

    /// <summary>[B,3,S,S] normalised as the backbone wants.</summary>
    public float[] Images { get; }

    /// <summary>[B,2] head centre in [-1, 1].</summary>
    public float[] Center { get; }

    public float[] CenterWeight { get; }

    /// <summary>[B,K,2] in [-1, 1].</summary>
    public float[] Keypoints { get; }

    /// <summary>[B,K]: 1 for a labelled keypoint inside the frame.</summary>
    public float[] KeypointWeight { get; }

    /// <summary>[B,4] x0, y0, x1, y1 in [0, 1].</summary>
    public float[] Box { get; }

    public float[] BoxWeight { get; }

    /// <summary>[B,3,3] rotation in the camera's axes, row-major.</summary>
    public float[] Rotation { get; }

    /// <summary>[B,3,3] the same rotation relative to the ray through the head centre
    /// (Runtime.Pose.Rotation.Ray): the target of a pose head whose frame is "ray". Equal to
    /// <see cref="Rotation"/> where the label has no head centre and camera.</summary>
    public float[] RayRotation { get; }

    /// <summary>[B,2] the head centre's ray as a normalised image point ((u - cx) / fx, (v - cy) / fy); 0, 0 when unknown.</summary>
    public float[] Ray { get; }

    public float[] PoseWeight { get; }

    /// <summary>[B,1,S,S]: in {0, 1} for a head-or-not mask; for a mask of C classes, the code
    /// of each pixel (0..C-1), -1 where it is not labelled.</summary>
    public float[] Mask { get; }

    public float[] MaskWeight { get; }

    /// <summary>[B,C]: one-hot or multi-hot.</summary>
    public float[] ClassTargets { get; }

    public float[] ClassWeight { get; }

    /// <summary>[B,V] continuous targets in their own units.</summary>
    public float[] Values { get; }

    public float[] ValueWeight { get; }

    /// <summary>The labels as augmented (in model-input pixels), for metrics and result grids.</summary>
    public HeadLabel[] Labels { get; }
}

/// <summary>
/// Turns data items into batches: decode, augment (letterbox only for validation), normalise,
/// and lay out the targets of the model's heads. Batches are built on worker threads ahead of the
/// trainer (<see cref="Prefetcher{T}"/>); batch b of epoch e depends only on (seed, e, b).
/// </summary>
internal sealed class Batcher
{
    private readonly IReadOnlyList<DataItem> _items;
    private readonly ModelConfig _config;
    private readonly Preprocessing _pre;
    private readonly string[] _classes;
    private readonly int[] _flipOrder;
    private readonly BatchLayout _layout;

    public Batcher(IReadOnlyList<DataItem> items, ModelConfig config, Preprocessing preprocessing, IReadOnlyList<string> classes)
    {
        _items = items;
        _config = config;
        _pre = preprocessing;
        _classes = [.. classes];
        string[]? names = config.Heads.FirstOrDefault(h => h.Kind == OutputKinds.Keypoints)?.KeypointNames;
        _flipOrder = names == null ? Conventions.KeypointFlip : Conventions.FlipOrder(names);
        _layout = new BatchLayout(
            names?.Length ?? Conventions.KeypointNames.Length,
            _classes,
            config.Heads.FirstOrDefault(h => h.Kind == OutputKinds.Mask)?.ClassNames?.Length ?? 0,
            config.Heads.FirstOrDefault(h => h.Kind == OutputKinds.Value)?.ValueNames?.Length ?? 0);
    }

    public int Count => _items.Count;

    public IReadOnlyList<DataItem> Items => _items;

    /// <summary>The batches of one epoch, built ahead on worker threads.</summary>
    public Prefetcher<Batch> Epoch(int batchSize, int epoch, int seed, AugmentOptions augment, bool shuffle, int depth = 3)
    {
        int[] order = [.. Enumerable.Range(0, _items.Count)];
        if (shuffle)
        {
            new Random(unchecked((seed * 7_919) + epoch)).Shuffle(order);
        }

        int batches = (order.Length + batchSize - 1) / batchSize;
        return new Prefetcher<Batch>(batches, b =>
        {
            int start = b * batchSize, count = Math.Min(batchSize, order.Length - start);
            return Build([.. order.Skip(start).Take(count)], augment, unchecked((seed * 1_000_003) + (epoch * 10_007) + b));
        }, depth);
    }

    /// <summary>Builds one batch from the given item indices.</summary>
    public Batch Build(int[] indices, AugmentOptions augment, int seed)
    {
        int s = _pre.Height;
        var batch = new Batch(indices.Length, s, _layout.Keypoints, _classes.Length, _layout.Values);
        var rng = new Random(seed);
        for (int i = 0; i < indices.Length; i++)
        {
            DataItem item = _items[indices[i]];
            using Mat image = item.Load();
            using Mat? mask = item.Label.Mask is { } m ? ReadMask(m) : null;
            HeadLabel label = item.Label with { Width = image.Width, Height = image.Height };
            // Beyond the image a head-or-not mask is background; a class mask is unlabelled there.
            using Augmented a = Augment.Apply(image, mask, label, s, augment, rng, _flipOrder, maskBorder: _layout.MaskClasses > 0 ? 255 : 0);
            Fill(batch, i, a);
            batch.HeadsOnly[i] = item.HeadsOnly;
        }

        return batch;
    }

    /// <exception cref="InvalidDataException">The mask file is missing or will not decode.</exception>
    private static Mat ReadMask(string path)
    {
        Mat mask = Cv2.ImRead(path, ImreadModes.Grayscale);
        if (mask.Empty())
        {
            mask.Dispose();
            throw new InvalidDataException($"{path}: mask missing or not an image OpenCV can decode");
        }

        return mask;
    }

    private unsafe void Fill(Batch b, int i, Augmented a)
    {
        int s = b.Size, plane = s * s;
        HeadLabel l = a.Label;
        b.Labels[i] = l;

        // Pixels: BGR bytes to normalised RGB planes.
        float[] scale = new float[3], offset = new float[3];
        for (int c = 0; c < 3; c++)
        {
            scale[c] = _pre.Scale / _pre.Std[c];
            offset[c] = -_pre.Mean[c] / _pre.Std[c];
        }

        byte* px = (byte*)a.Image.DataPointer;
        long rowStep = a.Image.Step();
        int baseIndex = i * 3 * plane;
        for (int y = 0; y < s; y++)
        {
            byte* row = px + (y * rowStep);
            for (int x = 0; x < s; x++)
            {
                int p = (y * s) + x;
                b.Images[baseIndex + p] = (row[(x * 3) + 2] * scale[0]) + offset[0];
                b.Images[baseIndex + plane + p] = (row[(x * 3) + 1] * scale[1]) + offset[1];
                b.Images[baseIndex + (2 * plane) + p] = (row[x * 3] * scale[2]) + offset[2];
            }
        }

        // Targets of every kind (a head reads only its own): what each kind takes from the label.
        foreach (HeadKind kind in HeadKinds.All)
        {
            kind.Fill(b, i, a, _layout);
        }
    }
}
