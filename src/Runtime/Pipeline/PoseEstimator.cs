using System;
using System.IO;
using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Inference;
using HeadTracking.Runtime.Models;
using HeadTracking.Runtime.Pose;

namespace HeadTracking.Runtime.Pipeline;

/// <summary>
/// One frame's raw 6-DoF pose from the model's decoded heads, as <see cref="PoseSource"/> says:
/// rotation from the pose head or the keypoints; position from the keypoints (solvePnP against a
/// generic face) or from the face box's width and the head centre, through a pinhole camera with
/// the configured field of view. Allocates nothing per frame. Not thread-safe: the worker's.
/// </summary>
internal sealed class PoseEstimator
{
    private readonly double _fovDegrees, _faceWidthCm;
    private readonly KeypointPose? _pnp; // set when the position (and maybe the rotation) comes from keypoints
    private readonly bool _rotationFromKeypoints;
    private readonly double[] _rotation = new double[9];

    /// <exception cref="InvalidDataException">The model lacks the head <paramref name="options"/>'
    /// <see cref="HeadTrackerOptions.PoseFrom"/> needs; the message names the model file.</exception>
    public PoseEstimator(HeadTrackerOptions options, ModelManifest manifest)
    {
        _fovDegrees = options.HorizontalFovDegrees;
        _faceWidthCm = options.FaceWidthCm;
        bool hasPose = manifest.Outputs.Exists(o => o.Kind == OutputKinds.Pose);
        string[]? names = manifest.Outputs.Find(o => o.Kind == OutputKinds.Keypoints)?.KeypointNames;
        KeypointPose? pnp = KeypointPose.For(names);
        switch (options.PoseFrom)
        {
            case PoseSource.PoseHead when !hasPose:
                throw new InvalidDataException($"{options.ModelPath}: PoseFrom = PoseHead, but the model has no pose head");
            case PoseSource.Keypoints when pnp == null:
                throw new InvalidDataException($"{options.ModelPath}: PoseFrom = Keypoints needs the keypoints {string.Join(", ", KeypointPose.GenericFace.Keys)}; the model has {(names == null ? "no keypoint head" : string.Join(", ", names))}");
            case PoseSource.PoseHead:
                _rotationFromKeypoints = false;
                _pnp = null;
                break;
            case PoseSource.Keypoints:
                _rotationFromKeypoints = true;
                _pnp = pnp;
                break;
            default:
                _rotationFromKeypoints = !hasPose && pnp != null;
                _pnp = pnp;
                break;
        }
    }

    /// <summary>Forgets the last pose (the keypoint fit starts afresh): the head was lost.</summary>
    public void Reset() => _pnp?.Reset();

    /// <summary>The raw pose in a <paramref name="width"/> x <paramref name="height"/> frame;
    /// false when there is no finite, plausible pose.</summary>
    public bool Measure(HeadOutputs o, int width, int height, out HeadPose pose)
    {
        pose = default;
        if (_pnp != null)
        {
            if (!_pnp.Solve(o.Keypoints, width, height, _fovDegrees, _rotation, out var c))
            {
                return false;
            }

            (pose.X, pose.Y, pose.Z) = c;
            if (_rotationFromKeypoints)
            {
                (pose.Yaw, pose.Pitch, pose.Roll) = Rotation.ToEuler(_rotation);
            }
        }
        else
        {
            double f = Conventions.FocalPixels(width, _fovDegrees);
            double boxWidth = o.Box[2] - o.Box[0];
            double z = o.HasBox && boxWidth > 1 ? f * _faceWidthCm / boxWidth : 60;
            double cx = o.HasCenter ? o.CenterX : (o.Box[0] + o.Box[2]) / 2, cy = o.HasCenter ? o.CenterY : (o.Box[1] + o.Box[3]) / 2;
            pose.X = (cx - (width / 2.0)) * z / f;
            pose.Y = (cy - (height / 2.0)) * z / f;
            pose.Z = z;
        }

        if (!_rotationFromKeypoints && o.HasPose)
        {
            if (o.PoseRelativeToRay && pose.Z > 0)
            {
                // The model saw the head, not where in the frame it was: its rotation is relative
                // to the ray through the head centre, turned here into the camera's.
                Span<double> apparent = stackalloc double[9];
                for (int i = 0; i < 9; i++)
                {
                    apparent[i] = o.RotationMatrix[i];
                }

                Rotation.RayToCamera(apparent, pose.X / pose.Z, pose.Y / pose.Z, _rotation);
                (pose.Yaw, pose.Pitch, pose.Roll) = Rotation.ToEuler(_rotation);
            }
            else
            {
                (pose.Yaw, pose.Pitch, pose.Roll) = (o.Yaw, o.Pitch, o.Roll);
            }
        }

        // NaN from the model must not reach the filters: it would stay in their state for good.
        return double.IsFinite(pose.X) && double.IsFinite(pose.Y) && double.IsFinite(pose.Z)
            && double.IsFinite(pose.Yaw) && double.IsFinite(pose.Pitch) && double.IsFinite(pose.Roll);
    }
}
